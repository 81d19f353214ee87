using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>TLS of a pool endpoint.</summary>
[ValidationRule("self.mode != 'FromSecret' || has(self.secretName)", "spec.endpoint.tls.secretName is required when spec.endpoint.tls.mode is FromSecret")]
public sealed class EndpointTlsSpec
{
    /// <summary>Disabled serves h2c; Managed uses the operator's pool CA; FromSecret serves the certificate in secretName.</summary>
    [Default("\"Disabled\"")]
    [JsonPropertyName("mode")]
    public TlsMode Mode { get; set; } = TlsMode.Disabled;

    /// <summary>
    /// FromSecret: Secret of type kubernetes.io/tls with the server certificate (tls.crt,
    /// tls.key), as cert-manager writes it; its ca.crt, if any, is handed to clients as ca.pem.
    /// Client certificates still come from the operator's tenant CA (Secret &lt;pool&gt;-ca),
    /// which the gateway requires client certificates to chain to; builders trust only the
    /// operator's internal CA (Secret &lt;pool&gt;-internal-ca).
    /// </summary>
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("secretName")]
    public string? SecretName { get; set; }

    /// <summary>
    /// Reject clients without a certificate signed by the client CA. Only takes effect when
    /// TLS is enabled; it is also what makes ClientCertificate routing keys and revocation work.
    /// </summary>
    [Default("true")]
    [JsonPropertyName("requireClientCertificate")]
    public bool RequireClientCertificate { get; set; } = true;
}
