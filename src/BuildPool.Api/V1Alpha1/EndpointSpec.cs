using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>The pool endpoint buildx connects to: docker buildx create --driver remote tcp://host:port.</summary>
public sealed class EndpointSpec
{
    /// <summary>TCP port of the endpoint Service.</summary>
    [Default("1234")]
    [Minimum(1)]
    [Maximum(65535)]
    [JsonPropertyName("port")]
    public int Port { get; set; } = 1234;

    /// <summary>Kubernetes Service type of the endpoint.</summary>
    [Default("\"ClusterIP\"")]
    [JsonPropertyName("serviceType")]
    public EndpointServiceType ServiceType { get; set; } = EndpointServiceType.ClusterIP;

    /// <summary>TLS of the endpoint.</summary>
    [Default("{}")]
    [JsonPropertyName("tls")]
    public EndpointTlsSpec Tls { get; set; } = new();
}
