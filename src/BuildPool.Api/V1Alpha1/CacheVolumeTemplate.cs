using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Template of a cache volume's PersistentVolumeClaim.</summary>
public sealed class CacheVolumeTemplate
{
    /// <summary>The volume size when spec.cache.volume.size is not set.</summary>
    public const string DefaultSize = "50Gi";

    /// <summary>Requested size, a Kubernetes quantity such as 100Gi. GC percentages are taken of it.</summary>
    [Default("\"" + DefaultSize + "\"")]
    [Pattern(Patterns.Quantity)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("size")]
    public string Size { get; set; } = DefaultSize;

    /// <summary>
    /// StorageClass of the claims. Unset means the cluster default. Auto-grow needs a class
    /// with allowVolumeExpansion; cloneFrom needs a CSI driver that supports cloning.
    /// </summary>
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("storageClassName")]
    public string? StorageClassName { get; set; }
}
