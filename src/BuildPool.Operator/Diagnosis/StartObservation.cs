using k8s.Models;

namespace BuildPool.Operator.Diagnosis;

/// <summary>What the cluster says about a Deployment that is not ready: its pods and, for a builder, its claim and the claim's Events.</summary>
public sealed record StartObservation
{
    public static readonly StartObservation None = new();

    public IReadOnlyList<V1Pod> Pods { get; init; } = [];

    public V1PersistentVolumeClaim? Claim { get; init; }

    /// <summary>Events about <see cref="Claim"/> (from the provisioner and the volume controller).</summary>
    public IReadOnlyList<Corev1Event> ClaimEvents { get; init; } = [];
}
