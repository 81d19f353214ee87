using System.Text.Json.Serialization;

namespace BuildPool.Operator.Snapshots;

/// <summary>A snapshot's source: the cache volume's claim (the operator never takes pre-provisioned contents).</summary>
public sealed class VolumeSnapshotSource
{
    [JsonPropertyName("persistentVolumeClaimName")]
    public string? PersistentVolumeClaimName { get; set; }
}
