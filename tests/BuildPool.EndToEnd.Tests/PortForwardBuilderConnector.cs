using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Volumes;
using k8s;

namespace BuildPool.EndToEnd.Tests;

/// <summary>
/// Lets the operator, running in the test process outside the cluster, reach each builder's
/// Control API: builder Service names resolve only inside the cluster, so each volume's builder
/// pod is reached through a port-forward instead.
/// </summary>
internal sealed class PortForwardBuilderConnector(IKubernetes client) : IBuilderConnector, IAsyncDisposable
{
    private readonly Dictionary<(string Namespace, string Volume), PodPortForward> _forwards = [];

    public BuildKitClient Connect(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var ns = volume.Metadata.NamespaceProperty;
        var name = volume.Metadata.Name;
        lock (_forwards)
        {
            if (!_forwards.TryGetValue((ns, name), out var forward))
            {
                forward = new PodPortForward(client, ns, $"app.kubernetes.io/component=builder,buildpool.dev/volume={name}", BuilderChildrenPlanner.BuildKitPort);
                _forwards.Add((ns, name), forward);
            }

            return new BuildKitClient(forward.Address);
        }
    }

    public async ValueTask DisposeAsync()
    {
        PodPortForward[] forwards;
        lock (_forwards)
        {
            forwards = [.. _forwards.Values];
        }

        foreach (var forward in forwards)
        {
            await forward.DisposeAsync();
        }
    }
}
