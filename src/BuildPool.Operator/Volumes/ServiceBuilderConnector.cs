using System.Net;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Reaches each builder through its per-builder Service; with TLS (and the pool CA's client
/// certificate) when <paramref name="tls"/> gives options for the volume's pool. The Service's
/// name is looked up as the machine does, or by <paramref name="resolve"/> where the cluster's
/// DNS is not the machine's (<c>buildpool dev</c>).
/// </summary>
public sealed class ServiceBuilderConnector(Func<CacheVolume, BuildKitClientOptions?>? tls = null, Func<DnsEndPoint, EndPoint?>? resolve = null) : IBuilderConnector
{
    public BuildKitClient Connect(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var options = tls?.Invoke(volume);
        return new BuildKitClient(ResourceNames.BuilderEndpoint(volume.Metadata.Name, volume.Metadata.NamespaceProperty, BuilderChildrenPlanner.BuildKitPort, options?.UseTls == true), options, resolve);
    }
}
