using k8s.Models;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>
/// Whether a NetworkPolicy's ingress admits a pod, as a CNI that enforces policies decides it
/// (label selectors with matchLabels and the four matchExpressions operators, namespace by its
/// <c>kubernetes.io/metadata.name</c> label). The local API enforces nothing, so tests ask this.
/// </summary>
internal static class NetworkPolicyCheck
{
    public static bool Admits(V1NetworkPolicy policy, string policyNamespace, string podNamespace, IDictionary<string, string> podLabels, int port)
    {
        var namespaceLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = podNamespace };
        return policy.Spec.Ingress.Any(rule =>
            (rule.Ports is null || rule.Ports.Any(p => p.Port?.Value == port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            && rule.FromProperty.Any(peer =>
                (peer.NamespaceSelector is null ? podNamespace == policyNamespace : Matches(peer.NamespaceSelector, namespaceLabels))
                && (peer.PodSelector is null || Matches(peer.PodSelector, podLabels))));
    }

    public static bool Matches(V1LabelSelector selector, IDictionary<string, string> labels) =>
        (selector.MatchLabels ?? new Dictionary<string, string>()).All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)
        && (selector.MatchExpressions ?? []).All(e => e.OperatorProperty switch
        {
            "In" => labels.TryGetValue(e.Key, out var v) && e.Values.Contains(v),
            "NotIn" => !labels.TryGetValue(e.Key, out var v) || !e.Values.Contains(v),
            "Exists" => labels.ContainsKey(e.Key),
            "DoesNotExist" => !labels.ContainsKey(e.Key),
            _ => throw new ArgumentException($"unknown selector operator {e.OperatorProperty}"),
        });
}
