using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>A list of <see cref="BuilderPool"/> objects, as the API server returns it.</summary>
public sealed class BuilderPoolList : IKubernetesObject<V1ListMeta>, IItems<BuilderPool>
{
    /// <summary>Kind name of the list.</summary>
    public const string KubeKind = "BuilderPoolList";

    /// <summary>APIVersion defines the versioned schema of this representation of an object.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = GroupVersion.ApiVersion;

    /// <summary>Kind is a string value representing the REST resource this object represents.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    /// <summary>Standard list metadata.</summary>
    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    /// <summary>The objects.</summary>
    [JsonPropertyName("items")]
    public IList<BuilderPool> Items { get; set; } = [];
}
