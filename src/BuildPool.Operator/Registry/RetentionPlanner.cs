using BuildPool.Api.Units;

namespace BuildPool.Operator.Registry;

/// <summary>
/// Decides which cache tags to delete. Pure: tags and the time in, a plan out.
/// </summary>
/// <remarks>
/// Order is newest first by <see cref="CacheTag.CreatedAt"/>, ties by reference. A tag whose age
/// is unknown is never deleted for its age and counts as the newest for maxTags and maxBytes,
/// so a cache that cannot be dated is the last to go rather than the first.
/// The registry deletes a manifest, not a tag: deleting a digest removes every tag on it. So a
/// tag is only deleted when every tag sharing its manifest is deleted too; otherwise it is
/// spared, and maxBytes (which measures distinct blobs) then takes whole manifests, oldest first.
/// </remarks>
public static class RetentionPlanner
{
    public static RetentionPlan Plan(IReadOnlyList<CacheTag> tags, RetentionLimits limits, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(limits);
        var newestFirst = tags
            .OrderByDescending(t => t.CreatedAt ?? DateTimeOffset.MaxValue)
            .ThenByDescending(t => t.Reference, StringComparer.Ordinal)
            .ToList();
        var reasons = new Dictionary<CacheTag, string>(ReferenceEqualityComparer.Instance);

        for (var i = 0; i < newestFirst.Count; i++)
        {
            var tag = newestFirst[i];
            if (limits.MaxAge is { } maxAge && tag.CreatedAt is { } created && now - created > maxAge)
            {
                reasons[tag] = $"older than {GoDuration.Format(maxAge)} (pushed {created.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})";
            }
            else if (limits.MaxTags is { } maxTags && i >= maxTags)
            {
                reasons[tag] = $"beyond the newest {maxTags} tags";
            }
        }

        // A manifest whose tags are not all chosen stays: deleting it would take a kept tag along.
        var spared = new List<RetentionDecision>();
        foreach (var group in newestFirst.GroupBy(ManifestOf))
        {
            if (group.Any(reasons.ContainsKey) && !group.All(reasons.ContainsKey))
            {
                var keptBy = group.First(t => !reasons.ContainsKey(t)).Reference;
                foreach (var tag in group.Where(reasons.ContainsKey).ToList())
                {
                    spared.Add(new RetentionDecision(tag, $"{reasons[tag]}, but its manifest {tag.Digest} is also tagged {keptBy}, which is kept"));
                    reasons.Remove(tag);
                }
            }
        }

        if (limits.MaxBytes is { } maxBytes)
        {
            // Whole manifests, oldest first, until the distinct blobs of what is left fit.
            var manifests = newestFirst.Where(t => !reasons.ContainsKey(t)).GroupBy(ManifestOf).Reverse().ToList();
            foreach (var manifest in manifests)
            {
                var held = CacheTag.DistinctBytes(newestFirst.Where(t => !reasons.ContainsKey(t)));
                if (held <= maxBytes)
                {
                    break;
                }

                foreach (var tag in manifest)
                {
                    reasons[tag] = $"the cache holds {Quantity.FormatApproximate(held)}, over maxBytes {Quantity.FormatApproximate(maxBytes)}";
                }
            }
        }

        var delete = newestFirst.Where(reasons.ContainsKey).Reverse().Select(t => new RetentionDecision(t, reasons[t])).ToList();
        var keep = newestFirst.Where(t => !reasons.ContainsKey(t)).ToList();
        return new RetentionPlan(delete, keep, spared, CacheTag.DistinctBytes(tags), CacheTag.DistinctBytes(keep));
    }

    private static (string, string) ManifestOf(CacheTag tag) => (tag.Repository, tag.Digest);
}
