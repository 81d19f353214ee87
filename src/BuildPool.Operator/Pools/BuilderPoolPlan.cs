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

    /// <summary>Demand annotations (Dedicated) whose key now has a volume: the reconciler removes them.</summary>
    public IReadOnlyList<string> ConsumedDemand { get; init; } = [];

    /// <summary>Keys that asked for a Dedicated volume but found the pool at maxVolumes.</summary>
    public int UnmetDemand { get; init; }
}
