using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>The BuildKit daemon (buildkitd) of each builder in a pool.</summary>
public sealed class BuilderSpec
{
    /// <summary>The image used when spec.builder.image is not set: a pinned rootless BuildKit release.</summary>
    public const string DefaultImage = "moby/buildkit:v0.17.3-rootless";

    /// <summary>
    /// BuildKit image. Pin a version: GC settings in buildkitd.toml are rendered for the
    /// BuildKit version of the tag. The image must match securityProfile (a -rootless tag for Rootless).
    /// </summary>
    [Default("\"" + DefaultImage + "\"")]
    [Pattern(Patterns.Image)]
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("image")]
    public string Image { get; set; } = DefaultImage;

    /// <summary>How buildkitd is isolated from its node.</summary>
    [Default("\"Rootless\"")]
    [JsonPropertyName("securityProfile")]
    public SecurityProfile SecurityProfile { get; set; } = SecurityProfile.Rootless;

    /// <summary>Compute resources of the buildkitd container.</summary>
    [JsonPropertyName("resources")]
    public V1ResourceRequirements? Resources { get; set; }

    /// <summary>Node labels a builder pod's node must have.</summary>
    [JsonPropertyName("nodeSelector")]
    public IDictionary<string, string>? NodeSelector { get; set; }

    /// <summary>Tolerations of the builder pods.</summary>
    [MaxItems(Limits.LongList)]
    [ListType("atomic")]
    [JsonPropertyName("tolerations")]
    public IList<V1Toleration>? Tolerations { get; set; }

    /// <summary>Affinity of the builder pods.</summary>
    [JsonPropertyName("affinity")]
    public V1Affinity? Affinity { get; set; }

    /// <summary>
    /// Platforms the builders build for natively, such as linux/amd64. Informational (shown
    /// to buildx); use one pool per architecture and a nodeSelector to place it.
    /// </summary>
    [MaxItems(Limits.ShortList)]
    [ListType("set")]
    [Pattern(Patterns.Platform)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("platforms")]
    public IList<string>? Platforms { get; set; }

    /// <summary>
    /// buildkitd worker max-parallelism: how many build steps one daemon runs at once.
    /// Unset means BuildKit's default (the number of CPUs).
    /// </summary>
    [Minimum(1)]
    [Maximum(1024)]
    [JsonPropertyName("maxParallelism")]
    public int? MaxParallelism { get; set; }

    /// <summary>
    /// Most builds the gateway runs at once on one builder; further builds queue. A Locked
    /// volume always runs one.
    /// </summary>
    [Default("4")]
    [Minimum(1)]
    [Maximum(1024)]
    [JsonPropertyName("maxConcurrentBuilds")]
    public int MaxConcurrentBuilds { get; set; } = 4;

    /// <summary>Per-registry settings rendered into buildkitd.toml: mirrors, plain HTTP, TLS.</summary>
    [MaxItems(Limits.LongList)]
    [ListType("map")]
    [ListMapKeys("host")]
    [JsonPropertyName("registries")]
    public IList<RegistrySettings>? Registries { get; set; }
}
