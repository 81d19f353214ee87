using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Pools;

/// <summary>What a Dedicated pool does with its gateway's demands (<see cref="DedicatedDemandPlanner"/>).</summary>
/// <param name="Keys">Every key that has or gets a volume, with the tenant it belongs to (null for none), existing volumes first.</param>
/// <param name="Consumed">Demand signals whose key now has a volume: removed from the Lease.</param>
/// <param name="Dropped">Demand signals refused for good (invalid key, expired): removed, each with why.</param>
/// <param name="UnmetTenants">Tenants (<see cref="GatewaySignals.NoTenant"/> for none) with keys that wait for room; each may evict only its own volumes.</param>
/// <param name="Unmet">Keys that wait for room, and why, for status.</param>
public sealed record DedicatedAssignment(
    IReadOnlyList<(string Key, string? Tenant)> Keys,
    IReadOnlyList<string> Consumed,
    IReadOnlyList<(GatewaySignal Signal, string Why)> Dropped,
    IReadOnlySet<string> UnmetTenants,
    IReadOnlyList<string> Unmet)
{
    public static DedicatedAssignment None { get; } = new([], [], [], new HashSet<string>(StringComparer.Ordinal), []);
}
