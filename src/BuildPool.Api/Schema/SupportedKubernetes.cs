namespace BuildPool.Api.Schema;

/// <summary>
/// The oldest Kubernetes BuildPool runs on, stated once: the operator refuses an older API
/// server at start, and the README, docs/install.md, the chart's kubeVersion and the kustomize
/// docs repeat it (a packaging test holds them to this value).
/// </summary>
/// <remarks>
/// 1.25 because the CRDs carry CEL <c>x-kubernetes-validations</c> (rule and message), served
/// by default from 1.25 on; without them an older server stores the rules and enforces none.
/// Everything else the operator calls is older: <c>policy/v1</c> PodDisruptionBudgets (1.21),
/// <c>coordination.k8s.io/v1</c> Leases (1.14), <c>networking.k8s.io/v1</c> NetworkPolicies.
/// A rule using <c>messageExpression</c> (1.27) or <c>reason</c>/<c>fieldPath</c> (1.28) would
/// raise it; a test over the generated CRDs fails when one appears.
/// </remarks>
public static class SupportedKubernetes
{
    /// <summary>Major and minor of the oldest supported Kubernetes.</summary>
    public static Version Minimum { get; } = new(1, 25);

    /// <summary><c>1.25</c>, as the docs write it.</summary>
    public static string MinimumText => $"{Minimum.Major}.{Minimum.Minor}";
}
