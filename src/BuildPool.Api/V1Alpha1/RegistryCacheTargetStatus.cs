using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Observed state of a RegistryCacheTarget.</summary>
public sealed class RegistryCacheTargetStatus
{
    /// <summary>The metadata.generation this status was computed from.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Ready, Reconciling and Stalled conditions, as kstatus expects them.</summary>
    [MaxItems(Limits.ShortList)]
    [ListType("map")]
    [ListMapKeys("type")]
    [JsonPropertyName("conditions")]
    public IList<V1Condition> Conditions { get; set; } = [];

    /// <summary>Whether the registry answered the last check.</summary>
    [JsonPropertyName("reachable")]
    public bool? Reachable { get; set; }

    /// <summary>Cache tags under the target.</summary>
    [Minimum(0)]
    [JsonPropertyName("tagCount")]
    public int? TagCount { get; set; }

    /// <summary>Bytes of the distinct blobs the cache tags reference.</summary>
    [Minimum(0)]
    [JsonPropertyName("bytes")]
    public long? Bytes { get; set; }

    /// <summary>When retention last ran.</summary>
    [JsonPropertyName("lastGC")]
    public DateTime? LastGC { get; set; }

    /// <summary>Bytes freed by the last retention run.</summary>
    [Minimum(0)]
    [JsonPropertyName("freedBytes")]
    public long? FreedBytes { get; set; }

    /// <summary>The buildx flags that use this target, with {key} left for the client to fill in.</summary>
    [JsonPropertyName("buildxFlags")]
    public BuildxCacheFlags? BuildxFlags { get; set; }
}
