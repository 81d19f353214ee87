using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Pure: which keys of a Dedicated pool get a volume. Keys that have one keep it. A demand is
/// dropped when its key cannot be a volume's key or no build asked for it within the demand TTL;
/// otherwise its key gets a volume while the pool is under <c>maxVolumes</c> and its tenant under
/// <c>maxVolumesPerTenant</c>, and waits otherwise (its tenant may then evict one of its own idle
/// volumes, never another tenant's).
/// </summary>
public static class DedicatedDemandPlanner
{
    /// <summary>On a Dedicated CacheVolume (written by the operator when it creates it): the tenant whose demand created it.</summary>
    public const string TenantAnnotation = "buildpool.dev/tenant";

    /// <param name="pool">The pool (its <c>spec.assignment</c>).</param>
    /// <param name="owned">The volumes the pool created.</param>
    /// <param name="demands">The gateway's demand signals, oldest first.</param>
    /// <param name="ttl">How long a demand lives without being written again.</param>
    /// <param name="now">The time.</param>
    public static DedicatedAssignment Plan(BuilderPool pool, IReadOnlyList<CacheVolume> owned, IReadOnlyList<GatewaySignal> demands, TimeSpan ttl, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(owned);
        ArgumentNullException.ThrowIfNull(demands);
        var assignment = pool.Spec.Assignment;
        var quota = assignment.MaxVolumesPerTenant ?? assignment.MaxVolumes;
        var keys = owned
            .Where(v => v.Spec.Keys is { Count: > 0 })
            .OrderBy(v => v.Metadata.Name, StringComparer.Ordinal)
            .Select(v => (Key: v.Spec.Keys![0], Tenant: TenantOf(v)))
            .ToList();
        var known = keys.Select(k => k.Key).ToHashSet(StringComparer.Ordinal);
        var held = keys.CountBy(k => k.Tenant ?? GatewaySignals.NoTenant, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        var consumed = new List<string>();
        var dropped = new List<(GatewaySignal, string)>();
        var unmetTenants = new HashSet<string>(StringComparer.Ordinal);
        var unmet = new List<string>();
        foreach (var demand in demands.Where(d => d.Kind == GatewaySignalKind.Demand))
        {
            var key = demand.Detail ?? string.Empty;
            var tenant = demand.Tenant ?? GatewaySignals.NoTenant;
            if (RoutingKeyRules.Problem(key) is { } problem)
            {
                dropped.Add((demand, problem));
            }
            else if (known.Contains(key))
            {
                consumed.Add(demand.Name);
            }
            else if (now - demand.At >= ttl)
            {
                dropped.Add((demand, $"no build asked for it for {GoDuration.Format(ttl)}"));
            }
            else if (keys.Count >= assignment.MaxVolumes)
            {
                unmetTenants.Add(tenant);
                unmet.Add($"spec.assignment.maxVolumes ({assignment.MaxVolumes}) reached");
            }
            else if (held.GetValueOrDefault(tenant) >= quota)
            {
                unmetTenants.Add(tenant);
                unmet.Add($"tenant {tenant} holds spec.assignment.maxVolumesPerTenant ({quota})");
            }
            else
            {
                keys.Add((key, demand.Tenant));
                known.Add(key);
                held[tenant] = held.GetValueOrDefault(tenant) + 1;
                consumed.Add(demand.Name);
            }
        }

        return new DedicatedAssignment(keys, consumed, dropped, unmetTenants, unmet);
    }

    /// <summary>The tenant a Dedicated volume was created for; null for none (or a volume from before tenants were recorded).</summary>
    public static string? TenantOf(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return volume.Metadata.Annotations?.TryGetValue(TenantAnnotation, out var tenant) == true && tenant.Length > 0 && tenant != GatewaySignals.NoTenant ? tenant : null;
    }
}
