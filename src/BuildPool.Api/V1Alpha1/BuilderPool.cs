using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// A pool of BuildKit builders with persistent cache volumes behind one endpoint that routes
/// each build to the builder whose cache is warm for it.
/// </summary>
[KubernetesEntity(Group = KubeGroup, ApiVersion = KubeApiVersion, Kind = KubeKind, PluralName = KubePluralName)]
[ShortName("bp")]
[Categories(GroupVersion.Category)]
[PrinterColumn("Ready", ".status.conditions[?(@.type==\"Ready\")].status", "string")]
[PrinterColumn("Builders", ".status.readyBuilders", "integer", Description = "Builders ready to take builds")]
[PrinterColumn("Volumes", ".status.volumes", "integer", 1)]
[PrinterColumn("Active", ".status.activeBuilds", "integer", 1)]
[PrinterColumn("Queued", ".status.queuedBuilds", "integer", 1)]
[PrinterColumn("Endpoint", ".status.endpoint", "string")]
[PrinterColumn("Status", ".status.conditions[?(@.type==\"Ready\")].message", "string", Description = "The Ready condition's message: what the object is doing or why it is stuck")]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date")]
public sealed class BuilderPool : IKubernetesObject<V1ObjectMeta>, ISpec<BuilderPoolSpec>, IStatus<BuilderPoolStatus>
{
    /// <summary>API group of this kind.</summary>
    public const string KubeGroup = GroupVersion.Group;

    /// <summary>API version of this kind within its group.</summary>
    public const string KubeApiVersion = GroupVersion.Version;

    /// <summary>Kind name.</summary>
    public const string KubeKind = "BuilderPool";

    /// <summary>Plural resource name used in URLs and RBAC rules.</summary>
    public const string KubePluralName = "builderpools";

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
    [Default("{}")]
    [JsonPropertyName("spec")]
    public BuilderPoolSpec Spec { get; set; } = new();

    /// <summary>Observed state, written by the operator through the status subresource.</summary>
    [JsonPropertyName("status")]
    public BuilderPoolStatus Status { get; set; } = new();
}
