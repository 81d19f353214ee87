using k8s.Models;

namespace BuildPool.Operator.Volumes;

/// <summary>The children of one cache volume, computed without I/O.</summary>
public sealed record BuilderChildren(
    V1PersistentVolumeClaim Claim,
    V1ConfigMap Config,
    V1Deployment Builder,
    V1Service Service)
{
    /// <summary>Hash of what a running builder would need a restart for (image, config, pod spec).</summary>
    public string PodTemplateHash { get; init; } = string.Empty;
}
