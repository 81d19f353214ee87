using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Volumes;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>Sends every volume's Control API calls to one fake daemon (as the operator tests do).</summary>
internal sealed class FixedBuilderConnector(string address) : IBuilderConnector
{
    public BuildKitClient Connect(CacheVolume volume) =>
        new(address, new BuildKitClientOptions { MaxRetryAttempts = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(1), CallTimeout = TimeSpan.FromSeconds(5) });
}
