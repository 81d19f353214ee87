using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.TestDoubles;

/// <summary>
/// Plays the kubelet and the deployment controller for tests without a cluster: every Deployment's
/// pods become ready as its spec asks (zero replicas included), either once
/// (<see cref="ReadyDeploymentsAsync"/>) or in the background until disposed (<see cref="Start(ResourceClient{V1Deployment}, string)"/>).
/// With <see cref="KubeletRules"/> (<see cref="PlayAsync"/>) it also creates the pods and plays
/// the scheduler, Pod Security admission and volume controller: a pod that a real cluster would
/// not run reports why, as a real one does.
/// </summary>
public sealed class FakeKubelet : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private FakeKubelet(Func<Task> round) =>
        _loop = Task.Run(() => RunAsync(round, _stop.Token), CancellationToken.None);

    /// <summary>Makes the Deployments of <paramref name="namespace"/> ready in the background, about every 50 ms.</summary>
    public static FakeKubelet Start(ResourceClient<V1Deployment> deployments, string @namespace) => new(() => ReadyDeploymentsAsync(deployments, @namespace));

    /// <summary>Plays a cluster shaped by <paramref name="rules"/> for the namespace in the background, about every 50 ms.</summary>
    public static FakeKubelet Start(IKubernetes kubernetes, string @namespace, KubeletRules rules) => new(() => PlayAsync(kubernetes, @namespace, rules));

    /// <summary>
    /// One round of a cluster shaped by <paramref name="rules"/>: claims bind (or stay Pending with
    /// the provisioner's Warning), each Deployment gets its pod (or a ReplicaFailure when Pod
    /// Security refuses it), the pod reports its state, and the Deployment's status follows.
    /// </summary>
    public static async Task PlayAsync(IKubernetes kubernetes, string @namespace, KubeletRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var claims = await FakeVolumeController.BindAsync(kubernetes, @namespace, rules.BindClaims);
        var deployments = new ResourceClient<V1Deployment>(kubernetes);
        var pods = new ResourceClient<V1Pod>(kubernetes);
        foreach (var deployment in await deployments.ListAsync(@namespace))
        {
            try
            {
                await FakePods.PlayAsync(deployments, pods, deployment, claims, rules);
            }
            catch (ConflictException)
            {
                // The operator wrote it meanwhile; the next round sets it.
            }
        }
    }

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

    private static async Task RunAsync(Func<Task> round, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await round();
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
