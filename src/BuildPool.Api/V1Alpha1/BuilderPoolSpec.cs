using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Desired state of a BuilderPool.</summary>
[ValidationRule("self.assignment.mode == 'Dedicated' || self.scaling.warmBuilders <= self.assignment.volumes", "spec.scaling.warmBuilders must not be more than spec.assignment.volumes: a Hashed pool has no more builders to keep warm")]
[ValidationRule("self.assignment.mode != 'Dedicated' || self.scaling.warmBuilders <= self.assignment.maxVolumes", "spec.scaling.warmBuilders must not be more than spec.assignment.maxVolumes: a Dedicated pool has no more builders to keep warm")]
public sealed class BuilderPoolSpec
{
    /// <summary>The BuildKit daemon every builder of the pool runs.</summary>
    [Default("{}")]
    [JsonPropertyName("builder")]
    public BuilderSpec Builder { get; set; } = new();

    /// <summary>Cache volumes: their size, how builds share them, garbage collection and growth.</summary>
    [Default("{}")]
    [JsonPropertyName("cache")]
    public CacheSpec Cache { get; set; } = new();

    /// <summary>How routing keys are assigned to cache volumes.</summary>
    [Default("{}")]
    [JsonPropertyName("assignment")]
    public AssignmentSpec Assignment { get; set; } = new();

    /// <summary>How many builders run and when idle ones stop.</summary>
    [Default("{}")]
    [JsonPropertyName("scaling")]
    public ScalingSpec Scaling { get; set; } = new();

    /// <summary>How the gateway finds each build's routing key and balances load.</summary>
    [Default("{}")]
    [JsonPropertyName("routing")]
    public RoutingSpec Routing { get; set; } = new();

    /// <summary>The pool's front door: the Service that buildx remote drivers connect to.</summary>
    [Default("{}")]
    [JsonPropertyName("endpoint")]
    public EndpointSpec Endpoint { get; set; } = new();

    /// <summary>
    /// RegistryCacheTargets (by name, in this namespace) offered to builds of this pool, and
    /// optionally injected into builds that export no cache of their own.
    /// </summary>
    [MaxItems(Limits.ShortList)]
    [ListType("map")]
    [ListMapKeys("name")]
    [JsonPropertyName("cacheTargets")]
    public IList<CacheTargetReference>? CacheTargets { get; set; }
}
