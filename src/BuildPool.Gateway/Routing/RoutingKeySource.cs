namespace BuildPool.Gateway.Routing;

/// <summary>
/// Where a build's routing key came from. Mirrors <c>BuildPool.Api.V1Alpha1.RoutingKeySource</c>
/// by name (the gateway has no project references; the host maps one to the other by name).
/// </summary>
public enum RoutingKeySource
{
    /// <summary>The first DNS label of the :authority or TLS SNI name under the routing domain.</summary>
    Authority,

    /// <summary>The client certificate's identity (subject CN or URI SAN).</summary>
    ClientCertificate,

    /// <summary>The exported image repository, without tag or digest.</summary>
    ImageName,

    /// <summary>A cache export or import registry ref, without tag or digest.</summary>
    CacheRef,

    /// <summary>The directory part of the session shared key (the build context's base name).</summary>
    SessionDirectory,
}
