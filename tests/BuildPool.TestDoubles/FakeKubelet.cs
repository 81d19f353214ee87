using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.TestDoubles;

/// <summary>
/// Plays the kubelet and the deployment controller for tests without a cluster: every Deployment's
/// pods become ready as its spec asks (zero replicas included), either once
/// (<see cref="ReadyDeploymentsAsync"/>) or in the background until disposed (<see cref="Start"/>).
/// </summary>
public sealed class FakeKubelet : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private FakeKubelet(ResourceClient<V1Deployment> deployments, string @namespace) =>
        _loop = Task.Run(() => RunAsync(deployments, @namespace, _stop.Token), CancellationToken.None);

    /// <summary>Makes the Deployments of <paramref name="namespace"/> ready in the background, about every 50 ms.</summary>
    public static FakeKubelet Start(ResourceClient<V1Deployment> deployments, string @namespace) => new(deployments, @namespace);

    /// <summary>One round: each Deployment whose status does not match its spec gets a ready status.</summary>
    public static async Task ReadyDeploymentsAsync(ResourceClient<V1Deployment> deployments, string @namespace)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        foreach (var deployment in await deployments.ListAsync(@namespace))
        {
            var replicas = deployment.Spec.Replicas ?? 1;
            if ((deployment.Status?.ReadyReplicas ?? 0) == replicas && (deployment.Status?.Replicas ?? 0) == replicas
                && deployment.Status?.ObservedGeneration == deployment.Metadata.Generation)
            {
                continue;
            }

            deployment.Status = new V1DeploymentStatus
            {
                Replicas = replicas,
                ReadyReplicas = replicas,
                AvailableReplicas = replicas,
                UpdatedReplicas = replicas,
                ObservedGeneration = deployment.Metadata.Generation,
            };
            try
            {
                await deployments.ReplaceStatusAsync(deployment);
            }
            catch (ConflictException)
            {
                // The operator wrote it meanwhile; the next round sets it.
            }
        }
    }

    private static async Task RunAsync(ResourceClient<V1Deployment> deployments, string @namespace, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ReadyDeploymentsAsync(deployments, @namespace);
                // A poll period, not a wait for something: pods react about this fast.
                await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
