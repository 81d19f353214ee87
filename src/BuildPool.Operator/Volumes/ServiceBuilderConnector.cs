using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Volumes;

/// <summary>Reaches each builder through its per-builder Service.</summary>
public sealed class ServiceBuilderConnector : IBuilderConnector
{
    public BuildKitClient Connect(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return new BuildKitClient(ResourceNames.BuilderEndpoint(volume.Metadata.Name, volume.Metadata.NamespaceProperty, CacheVolumePlanner.BuildKitPort));
    }
}
