using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Protocol;
using BuildPool.Operator.Rendering;
using BuildkitVersion = BuildPool.Operator.Rendering.BuildkitVersion;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Pure: which targeted prunes a builder needs beyond its own GC, from its disk usage records.
/// Per-cache-mount rules name the exact records to drop (filters <c>id==…</c>, which BuildKit ORs),
/// so a rule never touches another mount; usage above the budget asks the daemon to prune down to
/// it. In-use records are never named, and BuildKit itself skips in-use records too.
/// </summary>
public static class GcPlanner
{
    public sealed record Prune(PruneRequest Request, string Reason);

    public static IReadOnlyList<Prune> Plan(
        IReadOnlyList<UsageRecord> records,
        IReadOnlyList<CacheMountRule> rules,
        GcBudget budget,
        BuildkitVersion? daemonVersion,
        DateTime now)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(budget);
        var prunes = new List<Prune>();
        foreach (var rule in rules)
        {
            var mounts = records.Where(r => r.RecordType == "exec.cachemount" && IsMount(r, rule.Id)).ToList();
            var doomed = new HashSet<string>(StringComparer.Ordinal);
            if (rule.KeepDuration is not null && GoDuration.TryParse(rule.KeepDuration, out var keep, out _))
            {
                foreach (var r in mounts.Where(r => !r.InUse && LastUsed(r) < now - keep))
                {
                    doomed.Add(r.ID);
                }
            }

            if (rule.MaxSize is not null && Quantity.TryParse(rule.MaxSize, out var max, out _))
            {
                // Least recently used first, until what is left fits.
                var size = mounts.Where(r => !doomed.Contains(r.ID)).Sum(r => r.Size);
                foreach (var r in mounts.Where(r => !r.InUse && !doomed.Contains(r.ID)).OrderBy(LastUsed))
                {
                    if (size <= max)
                    {
                        break;
                    }

                    doomed.Add(r.ID);
                    size -= r.Size;
                }
            }

            if (doomed.Count > 0)
            {
                var request = new PruneRequest();
                request.Filter.AddRange(doomed.Order(StringComparer.Ordinal).Select(id => $"id=={id}"));
                prunes.Add(new Prune(request, $"cache mount \"{rule.Id}\": {doomed.Count} records beyond its rule"));
            }
        }

        var used = records.Sum(r => r.Size);
        if (used > budget.MaxUsedSpaceBytes)
        {
            var request = new PruneRequest();
            if (daemonVersion is { } v && v.IsBefore(BuildkitVersion.ReservedSpaceFields))
            {
                // Before 0.17 field 4 is keepBytes: prune until this much is left.
                request.ReservedSpace = budget.MaxUsedSpaceBytes;
            }
            else
            {
                request.ReservedSpace = budget.ReservedSpaceBytes;
                request.MaxUsedSpace = budget.MaxUsedSpaceBytes;
            }

            prunes.Add(new Prune(request, $"usage {Quantity.FormatApproximate(used)} is above maxUsedSpace {Quantity.FormatApproximate(budget.MaxUsedSpaceBytes)}"));
        }

        return prunes;
    }

    /// <summary>
    /// BuildKit describes a cache mount as <c>cached mount &lt;target&gt; from exec … with id "&lt;id&gt;"</c>
    /// (older versions leave out the id, so a rule may also name the mount target).
    /// </summary>
    public static bool IsMount(UsageRecord record, string id)
    {
        ArgumentNullException.ThrowIfNull(record);
        var description = record.Description ?? string.Empty;
        return description.Contains($"with id \"{id}\"", StringComparison.Ordinal)
            || (id.StartsWith('/') && description.StartsWith($"cached mount {id} ", StringComparison.Ordinal));
    }

    private static DateTime LastUsed(UsageRecord r) =>
        (r.LastUsedAt ?? r.CreatedAt)?.ToDateTime() ?? DateTime.MinValue;
}
