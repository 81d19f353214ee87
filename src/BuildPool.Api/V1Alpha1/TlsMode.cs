using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How the pool endpoint is secured.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TlsMode>))]
public enum TlsMode
{
    /// <summary>Plain HTTP/2 (h2c); only for networks where every client is trusted.</summary>
    Disabled,

    /// <summary>The operator runs a pool CA and issues the server certificate and client certificates (through ClientAccess SecretBindings).</summary>
    Managed,

    /// <summary>The server certificate comes from a Secret (tls.secretName or an EndpointTLS SecretBinding); client certificates still come from the pool CA.</summary>
    FromSecret,
}
