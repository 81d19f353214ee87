using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Rendering;

/// <summary>Everything <see cref="BuildkitdConfigRenderer"/> needs to write one builder's <c>buildkitd.toml</c>.</summary>
public sealed record BuildkitdConfigInput
{
    /// <summary>The default TCP listen address, the port the pool's Services target.</summary>
    public const string DefaultTcpAddress = "tcp://0.0.0.0:1234";

    /// <summary>The rootless image's socket, where <c>buildctl</c> probes in the pod look.</summary>
    public const string DefaultUnixSocket = "unix:///run/user/1000/buildkit/buildkitd.sock";

    /// <summary>
    /// Tag of the builder image, such as <c>v0.17.3-rootless</c> (see
    /// <see cref="BuildkitVersion.TagOf"/>). Null, or a tag that is not a version
    /// (<c>latest</c>), renders the newest format.
    /// </summary>
    public string? VersionTag { get; init; }

    /// <summary>Size of the cache volume in bytes; GC percentages are taken of it.</summary>
    public required long VolumeSizeBytes { get; init; }

    /// <summary>The pool's GC policy (spec.cache.gc).</summary>
    public GcPolicy Gc { get; init; } = new();

    /// <summary>The pool's cache mount rules (spec.cache.cacheMounts).</summary>
    public IReadOnlyList<CacheMountRule> CacheMounts { get; init; } = [];

    /// <summary>Worker max-parallelism; null leaves BuildKit's default (the number of CPUs).</summary>
    public int? MaxParallelism { get; init; }

    /// <summary>Registry tables; entries for the same host are merged.</summary>
    public IReadOnlyList<RegistryConfig> Registries { get; init; } = [];

    /// <summary>gRPC TCP listen address.</summary>
    public string TcpAddress { get; init; } = DefaultTcpAddress;

    /// <summary>gRPC unix socket address (<c>unix://</c> URL); null listens on TCP only.</summary>
    public string? UnixSocket { get; init; } = DefaultUnixSocket;

    /// <summary>Server TLS files; null serves plain gRPC (TLS ends at the gateway or is off).</summary>
    public GrpcTlsFiles? Tls { get; init; }

    /// <summary>How long BuildKit keeps build history records; null keeps BuildKit's default.</summary>
    public TimeSpan? HistoryMaxAge { get; init; }

    /// <summary>How many build history records BuildKit keeps; null keeps BuildKit's default.</summary>
    public int? HistoryMaxEntries { get; init; }
}
