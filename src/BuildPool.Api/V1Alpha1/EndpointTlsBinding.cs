using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Server certificate and client CA of a pool endpoint whose tls.mode is FromSecret.</summary>
public sealed class EndpointTlsBinding
{
    /// <summary>Secret of type kubernetes.io/tls with the endpoint's server certificate.</summary>
    [Required]
    [JsonPropertyName("serverCertificateSecretRef")]
    public SecretReference ServerCertificateSecretRef { get; set; } = new();

    /// <summary>Secret key holding the PEM CA that signs accepted client certificates.</summary>
    [JsonPropertyName("clientCASecretRef")]
    public SecretKeyReference? ClientCaSecretRef { get; set; }
}
