using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Settings for one registry, rendered as a [registry."host"] table of buildkitd.toml.</summary>
public sealed class RegistrySettings
{
    /// <summary>Registry host with optional port, as it appears in image references.</summary>
    [Required]
    [Pattern(Patterns.RegistryHost)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("host")]
    public string Host { get; set; } = "";

    /// <summary>Mirrors (host with optional port and path) tried before the registry itself, in order.</summary>
    [MaxItems(Limits.ShortList)]
    [ListType("atomic")]
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("mirrors")]
    public IList<string>? Mirrors { get; set; }

    /// <summary>Talk plain HTTP to this registry.</summary>
    [JsonPropertyName("http")]
    public bool Http { get; set; }

    /// <summary>Accept an untrusted TLS certificate from this registry.</summary>
    [JsonPropertyName("insecure")]
    public bool Insecure { get; set; }

    /// <summary>Secret key holding the PEM CA bundle that signs the registry's certificate.</summary>
    [JsonPropertyName("caSecretRef")]
    public SecretKeyReference? CaSecretRef { get; set; }

    /// <summary>
    /// Secret of type kubernetes.io/tls (keys tls.crt and tls.key) with the client key pair
    /// presented to the registry.
    /// </summary>
    [JsonPropertyName("clientKeyPairSecretRef")]
    public SecretReference? ClientKeyPairSecretRef { get; set; }
}
