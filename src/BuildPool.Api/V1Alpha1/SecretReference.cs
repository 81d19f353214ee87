using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>A Secret in the same namespace.</summary>
public sealed class SecretReference
{
    /// <summary>Name of the Secret.</summary>
    [Required]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";
}
