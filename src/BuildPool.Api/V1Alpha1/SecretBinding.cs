using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// Binds a Kubernetes Secret to a pool for what a builder or the gateway can really use:
/// cache backend credentials, registry TLS, endpoint TLS, or tenant client certificates.
/// BuildKit takes --secret, --ssh and registry push/pull credentials only from the client's
/// session; a binding cannot supply those.
/// </summary>
[KubernetesEntity(Group = KubeGroup, ApiVersion = KubeApiVersion, Kind = KubeKind, PluralName = KubePluralName)]
[ShortName("sb")]
[Categories(GroupVersion.Category)]
[PrinterColumn("Kind", ".spec.kind", "string")]
[PrinterColumn("Pool", ".spec.pool", "string")]
[PrinterColumn("Ready", ".status.conditions[?(@.type==\"Ready\")].status", "string")]
[PrinterColumn("Status", ".status.conditions[?(@.type==\"Ready\")].message", "string", Description = "The Ready condition's message: what the object is doing or why it is stuck")]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date")]
public sealed class SecretBinding : IKubernetesObject<V1ObjectMeta>, ISpec<SecretBindingSpec>, IStatus<SecretBindingStatus>
{
    /// <summary>API group of this kind.</summary>
    public const string KubeGroup = GroupVersion.Group;

    /// <summary>API version of this kind within its group.</summary>
    public const string KubeApiVersion = GroupVersion.Version;

    /// <summary>Kind name.</summary>
    public const string KubeKind = "SecretBinding";

    /// <summary>Plural resource name used in URLs and RBAC rules.</summary>
    public const string KubePluralName = "secretbindings";

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
    public SecretBindingSpec Spec { get; set; } = new();

    /// <summary>Observed state, written by the operator through the status subresource.</summary>
    [JsonPropertyName("status")]
    public SecretBindingStatus Status { get; set; } = new();
}
