using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>A key of a Secret in the same namespace.</summary>
public sealed class SecretKeyReference
{
    /// <summary>Name of the Secret.</summary>
    [Required]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>Key within the Secret. Unset means ca.crt.</summary>
    [Pattern(@"^[-._a-zA-Z0-9]+$")]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("key")]
    public string? Key { get; set; }
}
