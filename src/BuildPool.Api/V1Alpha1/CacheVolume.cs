using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// One persistent BuildKit state volume (layer cache and cache mounts) and the builder that
/// serves it. Pools create these; create one by hand to pin routing keys to a volume.
/// </summary>
[KubernetesEntity(Group = KubeGroup, ApiVersion = KubeApiVersion, Kind = KubeKind, PluralName = KubePluralName)]
[ShortName("cv")]
[Categories(GroupVersion.Category)]
[PrinterColumn("Pool", ".spec.pool", "string")]
[PrinterColumn("Phase", ".status.phase", "string")]
[PrinterColumn("Sharing", ".status.sharing", "string", Description = "The sharing in effect: the volume's own, else its pool's")]
[PrinterColumn("Used", ".status.usedBytes", "integer", Description = "Bytes used by BuildKit on the volume")]
[PrinterColumn("Capacity", ".status.capacity", "string", 1)]
[PrinterColumn("Active", ".status.activeBuilds", "integer", 1)]
[PrinterColumn("Status", ".status.conditions[?(@.type==\"Ready\")].message", "string", Description = "The Ready condition's message: what the object is doing or why it is stuck")]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date")]
public sealed class CacheVolume : IKubernetesObject<V1ObjectMeta>, ISpec<CacheVolumeSpec>, IStatus<CacheVolumeStatus>
{
    /// <summary>API group of this kind.</summary>
    public const string KubeGroup = GroupVersion.Group;

    /// <summary>API version of this kind within its group.</summary>
    public const string KubeApiVersion = GroupVersion.Version;

    /// <summary>Kind name.</summary>
    public const string KubeKind = "CacheVolume";

    /// <summary>Plural resource name used in URLs and RBAC rules.</summary>
    public const string KubePluralName = "cachevolumes";

    /// <summary>APIVersion defines the versioned schema of this representation of an object.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = GroupVersion.ApiVersion;

    /// <summary>Kind is a string value representing the REST resource this object represents.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    /// <summary>Standard object metadata.</summary>
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>Desired state.</summary>
    [Required]
    [JsonPropertyName("spec")]
    public CacheVolumeSpec Spec { get; set; } = new();

    /// <summary>Observed state, written by the operator through the status subresource.</summary>
    [JsonPropertyName("status")]
    public CacheVolumeStatus Status { get; set; } = new();
}
