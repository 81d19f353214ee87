using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// A registry location for --cache-to/--cache-from, with retention the operator enforces by
/// deleting old cache tags, and the exact buildx flags to use in status.
/// </summary>
[KubernetesEntity(Group = KubeGroup, ApiVersion = KubeApiVersion, Kind = KubeKind, PluralName = KubePluralName)]
[ShortName("rct")]
[Categories(GroupVersion.Category)]
[PrinterColumn("Ready", ".status.conditions[?(@.type==\"Ready\")].status", "string")]
[PrinterColumn("Reachable", ".status.reachable", "boolean")]
[PrinterColumn("Tags", ".status.tagCount", "integer")]
[PrinterColumn("Ref", ".spec.ref", "string", 1)]
[PrinterColumn("Status", ".status.conditions[?(@.type==\"Ready\")].message", "string", Description = "The Ready condition's message: what the object is doing or why it is stuck")]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date")]
public sealed class RegistryCacheTarget : IKubernetesObject<V1ObjectMeta>, ISpec<RegistryCacheTargetSpec>, IStatus<RegistryCacheTargetStatus>
{
    /// <summary>API group of this kind.</summary>
    public const string KubeGroup = GroupVersion.Group;

    /// <summary>API version of this kind within its group.</summary>
    public const string KubeApiVersion = GroupVersion.Version;

    /// <summary>Kind name.</summary>
    public const string KubeKind = "RegistryCacheTarget";

    /// <summary>Plural resource name used in URLs and RBAC rules.</summary>
    public const string KubePluralName = "registrycachetargets";

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
    public RegistryCacheTargetSpec Spec { get; set; } = new();

    /// <summary>Observed state, written by the operator through the status subresource.</summary>
    [JsonPropertyName("status")]
    public RegistryCacheTargetStatus Status { get; set; } = new();
}
