using System.Text.Json.Serialization;

namespace BuildPool.Operator.Snapshots;

/// <summary>What to snapshot, and with which VolumeSnapshotClass.</summary>
public sealed class VolumeSnapshotSpec
{
    [JsonPropertyName("volumeSnapshotClassName")]
    public string? VolumeSnapshotClassName { get; set; }

    [JsonPropertyName("source")]
    public VolumeSnapshotSource Source { get; set; } = new();
}
