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
}
