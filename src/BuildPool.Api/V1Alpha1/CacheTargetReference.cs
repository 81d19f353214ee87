using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>A RegistryCacheTarget offered to the builds of a pool.</summary>
public sealed class CacheTargetReference
{
    /// <summary>Name of the RegistryCacheTarget in the pool's namespace.</summary>
    [Required]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>
    /// Add this target's cache export and import to builds that set none themselves. Off means
    /// the target is only published (status.buildxCommand) for clients to use.
    /// </summary>
    [Default("false")]
    [JsonPropertyName("inject")]
    public bool Inject { get; set; }
}
