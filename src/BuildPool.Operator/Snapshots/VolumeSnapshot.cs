using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Snapshots;

/// <summary>
/// The parts of a CSI <c>snapshot.storage.k8s.io/v1</c> VolumeSnapshot the operator writes and
/// reads. Its CRD is installed with the cluster's snapshot controller, not by BuildPool, so it may
/// be missing (<see cref="SnapshotApi"/> checks).
/// </summary>
[KubernetesEntity(Group = KubeGroup, ApiVersion = KubeApiVersion, Kind = KubeKind, PluralName = KubePluralName)]
public sealed class VolumeSnapshot : IKubernetesObject<V1ObjectMeta>
{
    public const string KubeGroup = "snapshot.storage.k8s.io";
    public const string KubeApiVersion = "v1";
    public const string KubeKind = "VolumeSnapshot";
    public const string KubePluralName = "volumesnapshots";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{KubeGroup}/{KubeApiVersion}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public VolumeSnapshotSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public VolumeSnapshotStatus? Status { get; set; }
}
