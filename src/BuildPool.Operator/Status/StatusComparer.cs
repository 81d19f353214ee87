using k8s;

namespace BuildPool.Operator.Status;

/// <summary>Status is written only when its serialized form changes.</summary>
public static class StatusComparer
{
    public static bool Same<T>(T? a, T? b) => KubernetesJson.Serialize(a) == KubernetesJson.Serialize(b);
}
