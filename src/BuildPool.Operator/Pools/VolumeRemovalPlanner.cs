using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Pure: which of a pool's own volumes go. Deleting one only starts its finalizer, which drains
/// the builder first; the reclaim policy then decides whether the cache survives.
/// </summary>
public static class VolumeRemovalPlanner
{
    /// <param name="pool">The pool.</param>
    /// <param name="plan">The pool's plan: its volumes and the keys still waiting for one.</param>
    /// <param name="owned">The volumes the pool created, as the cache shows them.</param>
    public static VolumeRemovals Plan(BuilderPool pool, BuilderPoolPlan plan, IReadOnlyList<CacheVolume> owned)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(owned);
        return new VolumeRemovals(ScaleIn(pool, plan, owned), plan.UnmetDemand > 0 ? Evict(owned, plan.Dedicated.UnmetTenants) : null);
    }

    // Hashed scale-in: volumes this pool created that the plan no longer lists. Dedicated volumes
    // are never removed here: the plan is built from a cache that may not show a volume created a
    // moment ago, and a missing key must not look like a removed one.
    private static List<CacheVolume> ScaleIn(BuilderPool pool, BuilderPoolPlan plan, IReadOnlyList<CacheVolume> owned)
    {
        if (pool.Spec.Assignment.Mode != AssignmentMode.Hashed)
        {
            return [];
        }

        var wanted = plan.Volumes.Select(v => v.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        return owned.Where(v => !wanted.Contains(v.Metadata.Name) && v.Metadata.DeletionTimestamp is null).ToList();
    }

    // Dedicated at maxVolumes or a tenant's quota: the least recently used idle volume of a tenant
    // whose keys wait makes room. Only its own: whatever keys a tenant sends, it never evicts
    // another tenant's cache. One eviction at a time: a volume still draining counts against the
    // limits until it is gone, and evicting another meanwhile would throw away a second warm cache.
    private static CacheVolume? Evict(IReadOnlyList<CacheVolume> owned, IReadOnlySet<string> waiting) =>
        owned.Any(v => v.Metadata.DeletionTimestamp is not null) ? null : owned
            .Where(v => v.Metadata.DeletionTimestamp is null && v.Status.Phase == CacheVolumePhase.Idle && v.Status.ActiveBuilds == 0)
            .Where(v => waiting.Contains(DedicatedDemandPlanner.TenantOf(v) ?? GatewaySignals.NoTenant))
            .OrderBy(v => v.Status.LastUsed ?? v.Metadata.CreationTimestamp ?? DateTime.MinValue)
            .ThenBy(v => v.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
}
