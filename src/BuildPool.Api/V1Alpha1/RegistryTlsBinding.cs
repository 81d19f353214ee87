using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Registry CA and client key pair, rendered into buildkitd.toml for one registry host.</summary>
[ValidationRule("has(self.caSecretRef) || has(self.clientKeyPairSecretRef)", "spec.registryTLS needs caSecretRef or clientKeyPairSecretRef")]
public sealed class RegistryTlsBinding
{
    /// <summary>Registry host with optional port.</summary>
    [Required]
    [Pattern(Patterns.RegistryHost)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("registry")]
    public string Registry { get; set; } = "";

    /// <summary>Secret key holding the PEM CA bundle that signs the registry's certificate.</summary>
    [JsonPropertyName("caSecretRef")]
    public SecretKeyReference? CaSecretRef { get; set; }

    /// <summary>Secret of type kubernetes.io/tls with the client key pair presented to the registry.</summary>
    [JsonPropertyName("clientKeyPairSecretRef")]
    public SecretReference? ClientKeyPairSecretRef { get; set; }
}
