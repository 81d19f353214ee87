using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// Periodic CSI VolumeSnapshots (snapshot.storage.k8s.io/v1) of every cache volume of the pool,
/// so a lost or new volume can start warm from one (CacheVolume spec.cloneFromSnapshot).
/// Needs the snapshot CRDs and a CSI driver that supports snapshots; without the CRDs the
/// volumes report SnapshotsAvailable=False and nothing else happens.
/// </summary>
public sealed class SnapshotPolicy
{
    /// <summary>VolumeSnapshotClass of the snapshots; its deletionPolicy decides whether pruned snapshots keep their content.</summary>
    [Required]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("volumeSnapshotClassName")]
    public string VolumeSnapshotClassName { get; set; } = "";

    /// <summary>
    /// How often each volume is snapshotted, as a Go duration interval (for example 24h or
    /// 6h30m; not a cron expression), counted from the volume's last snapshot. Snapshots of a
    /// running builder are crash-consistent.
    /// </summary>
    [Default("\"24h\"")]
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("schedule")]
    public string Schedule { get; set; } = "24h";

    /// <summary>Snapshots kept per volume; the oldest beyond this count are deleted.</summary>
    [Default("3")]
    [Minimum(1)]
    [Maximum(100)]
    [JsonPropertyName("retain")]
    public int Retain { get; set; } = 3;
}
