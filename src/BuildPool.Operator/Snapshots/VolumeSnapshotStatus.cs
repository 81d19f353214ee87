using System.Text.Json.Serialization;

namespace BuildPool.Operator.Snapshots;

/// <summary>What the snapshot controller reports; read only for people looking at the object.</summary>
public sealed class VolumeSnapshotStatus
{
    [JsonPropertyName("readyToUse")]
    public bool? ReadyToUse { get; set; }

    [JsonPropertyName("creationTime")]
    public DateTime? CreationTime { get; set; }
}
