namespace BuildPool.Operator.Naming;

/// <summary>Labels and annotations BuildPool puts on what it creates, and reads back.</summary>
public static class WellKnown
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "buildpool";
    public const string NameLabel = "app.kubernetes.io/name";
    public const string ComponentLabel = "app.kubernetes.io/component";
    public const string InstanceLabel = "app.kubernetes.io/instance";
    public const string PoolLabel = "buildpool.dev/pool";
    public const string VolumeLabel = "buildpool.dev/volume";

    public const string BuilderComponent = "builder";
    public const string GatewayComponent = "gateway";

    /// <summary>Hash of the desired spec of a child: the child is written only when it changes.</summary>
    public const string SpecHashAnnotation = "buildpool.dev/spec-hash";

    /// <summary>Finalizer that lets the operator drain a builder and honour reclaimPolicy before a volume goes.</summary>
    public const string VolumeFinalizer = "buildpool.dev/cache-volume";

    /// <summary>
    /// On a CacheVolume: when the operator last ran a GC pass on it (RFC 3339 time), written right
    /// after the prunes. <c>status.lastGC</c> shows it; it outlives a status write that failed after
    /// the pass, and an operator that became leader meanwhile.
    /// </summary>
    public const string LastGcAnnotation = "buildpool.dev/last-gc";

    /// <summary>Kept on a retained PVC so a pool of the same name finds and reuses it.</summary>
    public const string RetainedAnnotation = "buildpool.dev/retained";
}
