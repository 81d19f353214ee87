using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Desired state of a SecretBinding: exactly the member named by kind is set.</summary>
[ValidationRule("has(self.clientAccess) == (self.kind == 'ClientAccess')", "spec.clientAccess must be set exactly when spec.kind is ClientAccess")]
[ValidationRule("has(self.cacheBackendCredentials) == (self.kind == 'CacheBackendCredentials')", "spec.cacheBackendCredentials must be set exactly when spec.kind is CacheBackendCredentials")]
[ValidationRule("has(self.registryTLS) == (self.kind == 'RegistryTLS')", "spec.registryTLS must be set exactly when spec.kind is RegistryTLS")]
[ValidationRule("has(self.endpointTLS) == (self.kind == 'EndpointTLS')", "spec.endpointTLS must be set exactly when spec.kind is EndpointTLS")]
public sealed class SecretBindingSpec
{
    /// <summary>What this binding binds; names the member of spec that must be set.</summary>
    [Required]
    [JsonPropertyName("kind")]
    public SecretBindingKind Kind { get; set; }

    /// <summary>Name of the BuilderPool (same namespace) the binding applies to.</summary>
    [Required]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("pool")]
    public string Pool { get; set; } = "";

    /// <summary>Kind ClientAccess: a client certificate for a tenant namespace.</summary>
    [JsonPropertyName("clientAccess")]
    public ClientAccessBinding? ClientAccess { get; set; }

    /// <summary>Kind CacheBackendCredentials: cloud credentials for s3 or azblob cache backends.</summary>
    [JsonPropertyName("cacheBackendCredentials")]
    public CacheBackendCredentialsBinding? CacheBackendCredentials { get; set; }

    /// <summary>Kind RegistryTLS: registry CA and client key pair for buildkitd.toml.</summary>
    [JsonPropertyName("registryTLS")]
    public RegistryTlsBinding? RegistryTls { get; set; }

    /// <summary>Kind EndpointTLS: server certificate and client CA of the pool endpoint.</summary>
    [JsonPropertyName("endpointTLS")]
    public EndpointTlsBinding? EndpointTls { get; set; }
}
