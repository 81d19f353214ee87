using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Where the gateway takes a build's routing key from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RoutingKeySource>))]
public enum RoutingKeySource
{
    /// <summary>The first DNS label of the :authority or TLS SNI name under routing.domain.</summary>
    Authority,

    /// <summary>The identity (common name) of the client certificate.</summary>
    ClientCertificate,

    /// <summary>The exported image name, repository without tag.</summary>
    ImageName,

    /// <summary>A cache export or import ref of the build.</summary>
    CacheRef,

    /// <summary>The directory part of the session shared key, that is the base name of the build context directory.</summary>
    SessionDirectory,
}
