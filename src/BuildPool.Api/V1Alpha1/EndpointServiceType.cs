using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Kubernetes Service type of the pool endpoint.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EndpointServiceType>))]
public enum EndpointServiceType
{
    /// <summary>Reachable inside the cluster only.</summary>
    ClusterIP,

    /// <summary>Also reachable on a port of every node.</summary>
    NodePort,

    /// <summary>Also reachable through a cloud load balancer.</summary>
    LoadBalancer,
}
