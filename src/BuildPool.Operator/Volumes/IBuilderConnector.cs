using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Opens a Control API client to a volume's builder. In a cluster that is the builder's
/// Service; tests point it at test-double daemons.
/// </summary>
public interface IBuilderConnector
{
    BuildKitClient Connect(CacheVolume volume);
}
