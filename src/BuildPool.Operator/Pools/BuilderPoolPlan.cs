using BuildPool.Api.V1Alpha1;
using k8s.Models;

namespace BuildPool.Operator.Pools;

/// <summary>Everything a pool should own, computed without I/O.</summary>
public sealed record BuilderPoolPlan(
    IReadOnlyList<CacheVolume> Volumes,
    V1ServiceAccount GatewayServiceAccount,
    V1Role GatewayRole,
    V1RoleBinding GatewayRoleBinding,
    V1Deployment Gateway,
    V1Service Service,
    V1PodDisruptionBudget BuilderDisruptionBudget,
    V1NetworkPolicy BuilderNetworkPolicy)
{
    public string Endpoint { get; init; } = string.Empty;

    public string BuildxCommand { get; init; } = string.Empty;

    /// <summary>The pool's signal Lease, which the gateway patches (<see cref="GatewaySignals"/>).</summary>
    public required V1Lease SignalLease { get; init; }

    /// <summary>Dedicated mode: the keys served and what became of the gateway's demands.</summary>
    public DedicatedAssignment Dedicated { get; init; } = DedicatedAssignment.None;

    /// <summary>Keys that asked for a Dedicated volume and wait for room (maxVolumes or the tenant's quota).</summary>
    public int UnmetDemand => Dedicated.Unmet.Count;
}
