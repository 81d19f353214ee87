using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Observed state of a CacheVolume and its builder.</summary>
public sealed class CacheVolumeStatus
{
    /// <summary>The metadata.generation this status was computed from.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Ready, Reconciling and Stalled conditions, as kstatus expects them.</summary>
    [MaxItems(Limits.ShortList)]
    [ListType("map")]
    [ListMapKeys("type")]
    [JsonPropertyName("conditions")]
    public IList<V1Condition> Conditions { get; set; } = [];

    /// <summary>Lifecycle phase of the volume and its builder.</summary>
    [JsonPropertyName("phase")]
    public CacheVolumePhase? Phase { get; set; }

    /// <summary>Address of this volume's builder, host:port, while it runs.</summary>
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("endpoint")]
    public string? Endpoint { get; set; }

    /// <summary>The sharing in effect: spec.sharing, or the pool's spec.cache.sharing when the volume sets none (as for the volumes a pool creates).</summary>
    [JsonPropertyName("sharing")]
    public CacheSharing? Sharing { get; set; }

    /// <summary>Capacity of the bound claim, a quantity.</summary>
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("capacity")]
    public string? Capacity { get; set; }

    /// <summary>Bytes BuildKit uses on the volume, from its DiskUsage report.</summary>
    [Minimum(0)]
    [JsonPropertyName("usedBytes")]
    public long? UsedBytes { get; set; }

    /// <summary>Builds running on this volume's builder.</summary>
    [Minimum(0)]
    [JsonPropertyName("activeBuilds")]
    public int ActiveBuilds { get; set; }

    /// <summary>When a build last ran on this volume.</summary>
    [JsonPropertyName("lastUsed")]
    public DateTime? LastUsed { get; set; }

    /// <summary>When garbage collection or a prune last ran on this volume.</summary>
    [JsonPropertyName("lastGC")]
    public DateTime? LastGC { get; set; }

    /// <summary>Share of build steps served from cache over recent builds, from 0 to 1.</summary>
    [Minimum(0)]
    [Maximum(1)]
    [JsonPropertyName("cacheHitRatio")]
    public double? CacheHitRatio { get; set; }

    /// <summary>Name of the newest VolumeSnapshot the operator took of this volume (spec.cache.snapshots of the pool).</summary>
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("lastSnapshot")]
    public string? LastSnapshot { get; set; }

    /// <summary>When the newest VolumeSnapshot of this volume was taken.</summary>
    [JsonPropertyName("lastSnapshotTime")]
    public DateTime? LastSnapshotTime { get; set; }

    /// <summary>Forks of this volume that exist now (overflow and isolated), for people and dashboards.</summary>
    [Minimum(0)]
    [JsonPropertyName("forks")]
    public int? Forks { get; set; }
}
