using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Cache volumes of a pool: template, sharing, garbage collection, growth and reclaim.</summary>
public sealed class CacheSpec
{
    /// <summary>Template of the PersistentVolumeClaim each cache volume gets.</summary>
    [Default("{}")]
    [JsonPropertyName("volume")]
    public CacheVolumeTemplate Volume { get; set; } = new();

    /// <summary>Sharing of volumes the pool creates, and of hand-made CacheVolumes that set none.</summary>
    [Default("\"Shared\"")]
    [JsonPropertyName("sharing")]
    public CacheSharing Sharing { get; set; } = CacheSharing.Shared;

    /// <summary>BuildKit garbage collection policy, rendered into buildkitd.toml.</summary>
    [Default("{}")]
    [JsonPropertyName("gc")]
    public GcPolicy Gc { get; set; } = new();

    /// <summary>
    /// Rules for individual RUN --mount=type=cache mounts, enforced by targeted prunes through
    /// the BuildKit control API.
    /// </summary>
    [MaxItems(Limits.LongList)]
    [ListType("map")]
    [ListMapKeys("id")]
    [JsonPropertyName("cacheMounts")]
    public IList<CacheMountRule>? CacheMounts { get; set; }

    /// <summary>Grow volumes when they fill up. Unset means volumes keep their size.</summary>
    [JsonPropertyName("autoGrow")]
    public AutoGrowPolicy? AutoGrow { get; set; }

    /// <summary>Limits and idle timeout of the temporary forks of Private volumes (overflow and untrusted builds).</summary>
    [Default("{}")]
    [JsonPropertyName("forks")]
    public ForkPolicy Forks { get; set; } = new();

    /// <summary>Periodic VolumeSnapshots of the pool's cache volumes. Unset means no snapshots.</summary>
    [JsonPropertyName("snapshots")]
    public SnapshotPolicy? Snapshots { get; set; }

    /// <summary>What happens to volumes that are idle past their retention or whose pool is deleted.</summary>
    [Default("\"Retain\"")]
    [JsonPropertyName("reclaimPolicy")]
    public ReclaimPolicy ReclaimPolicy { get; set; } = ReclaimPolicy.Retain;
}
