namespace BuildPool.Operator.Diagnosis;

/// <summary>Which of BuildPool's Deployments a diagnosis is about: it decides which settings a message points to.</summary>
public enum Workload
{
    /// <summary>A CacheVolume's builder, configured by the pool's <c>spec.builder</c>.</summary>
    Builder,

    /// <summary>A pool's gateway, which runs the operator's <c>--gateway-image</c>.</summary>
    Gateway,
}
