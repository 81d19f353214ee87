using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Desired state of a CacheVolume.</summary>
[ValidationRule("!(has(self.cloneFrom) && has(self.cloneFromSnapshot))", "spec.cloneFrom and spec.cloneFromSnapshot are exclusive: seed a volume from one source")]
public sealed class CacheVolumeSpec
{
    /// <summary>Name of the BuilderPool (same namespace) this volume belongs to. It cannot change: the cache on the volume was built by that pool's builders, with its settings.</summary>
    [Required]
    [ValidationRule("self == oldSelf", "spec.pool is immutable: create a CacheVolume in the other pool (spec.cloneFrom can seed it from this one)")]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("pool")]
    public string Pool { get; set; } = "";

    /// <summary>How concurrent builds share this volume. Unset means the pool's spec.cache.sharing.</summary>
    [JsonPropertyName("sharing")]
    public CacheSharing? Sharing { get; set; }

    /// <summary>Requested size, a quantity such as 100Gi. Unset means the pool's volume template size.</summary>
    [Pattern(Patterns.Quantity)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("size")]
    public string? Size { get; set; }

    /// <summary>StorageClass of the claim. Unset means the pool's volume template class.</summary>
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("storageClassName")]
    public string? StorageClassName { get; set; }

    /// <summary>
    /// Routing keys pinned to this volume; they win over hashing. Use it to give, for example,
    /// release builds of one repository a volume of their own.
    /// </summary>
    [MaxItems(Limits.LongList)]
    [ListType("set")]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("keys")]
    public IList<string>? Keys { get; set; }

    /// <summary>
    /// Name of a CacheVolume to seed this one from by CSI volume cloning; needs a CSI driver
    /// that supports cloning and the same StorageClass. Only read when the claim is created.
    /// </summary>
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("cloneFrom")]
    public string? CloneFrom { get; set; }

    /// <summary>
    /// Name of a VolumeSnapshot (snapshot.storage.k8s.io/v1, same namespace) to restore this
    /// volume from, so it starts warm; for example one the pool's spec.cache.snapshots took.
    /// Exclusive with cloneFrom. Only read when the claim is created.
    /// </summary>
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("cloneFromSnapshot")]
    public string? CloneFromSnapshot { get; set; }

    /// <summary>When the volume is deleted, if the pool's reclaimPolicy is Delete.</summary>
    [JsonPropertyName("retention")]
    public VolumeRetention? Retention { get; set; }
}
