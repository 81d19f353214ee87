using BuildPool.Operator.Rendering;
using k8s.Models;

namespace BuildPool.Operator.Bindings;

/// <summary>
/// What a pool's TLS and its SecretBindings add to every builder: Secret volumes, mounts and
/// environment, the buildkitd.toml entries that point at them, and a digest of the Secrets'
/// data that rolls the builders (through drain) when any of them is rotated.
/// </summary>
public sealed record BuilderCredentials
{
    /// <summary>Nothing added: the pod and its hash stay exactly as without bindings.</summary>
    public static readonly BuilderCredentials None = new();

    /// <summary>Pod template annotation carrying <see cref="Digest"/>.</summary>
    public const string DigestAnnotation = "buildpool.dev/secrets-digest";

    /// <summary>
    /// Pod template annotation carrying <see cref="TlsDigest"/>: the pool reads it to know which
    /// builders run with the current builder certificate and trust bundle.
    /// </summary>
    public const string TlsDigestAnnotation = "buildpool.dev/builder-tls-digest";

    /// <summary>Hash of the builder certificate Secret alone; null without TLS.</summary>
    public string? TlsDigest { get; init; }

    /// <summary>The daemon's gRPC server TLS; null serves plain gRPC.</summary>
    public GrpcTlsFiles? Tls { get; init; }

    /// <summary>Registry tables from RegistryTLS bindings, merged with the pool's own by the renderer.</summary>
    public IReadOnlyList<RegistryConfig> Registries { get; init; } = [];

    public IReadOnlyList<V1Volume> Volumes { get; init; } = [];

    public IReadOnlyList<V1VolumeMount> Mounts { get; init; } = [];

    public IReadOnlyList<V1EnvFromSource> EnvFrom { get; init; } = [];

    /// <summary>Hash of the data of every Secret above; null when there are none.</summary>
    public string? Digest { get; init; }
}
