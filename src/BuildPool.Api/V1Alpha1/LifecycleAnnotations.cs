namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// The labels the operator puts on the forks it creates (docs/lifecycle.md), which the gateway
/// reads to route builds. What the gateway asks of the operator travels the other way, on the
/// pool's signal Lease (<see cref="GatewaySignals"/>).
/// </summary>
public static class LifecycleAnnotations
{
    /// <summary>
    /// Label on a fork CacheVolume (written by the operator): the name of the volume it was cloned
    /// from. The operator takes a volume for a fork only when its name and controller agree too.
    /// </summary>
    public const string ForkOfLabel = "buildpool.dev/fork-of";

    /// <summary>Label on an isolated fork (written by the operator): the id of the one untrusted build it serves.</summary>
    public const string IsolatedForLabel = "buildpool.dev/isolated-for";
}
