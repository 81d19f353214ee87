using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// Plays the kubelet for a whole chaos run, in the background: builder and gateway pods become
/// ready (or go away) as their Deployments ask, and the data-safety checker samples the claims.
/// Every tenth round it also plays the garbage collector for orphans (<see cref="OrphanCollector"/>).
/// </summary>
internal sealed class Kubelet : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _orphans = new();

    private Kubelet(OperatorHarness harness, string ns, DataSafetyChecker? safety)
    {
        _loop = Task.Run(() => RunAsync(harness, ns, safety, _stop.Token), CancellationToken.None);
    }

    /// <summary>Objects the operator created for an owner that was already gone, collected as a real cluster's GC would.</summary>
    public IReadOnlyList<string> CollectedOrphans => [.. _orphans];

    public static Kubelet Start(OperatorHarness harness, string ns, DataSafetyChecker? safety = null) => new(harness, ns, safety);

    private async Task RunAsync(OperatorHarness harness, string ns, DataSafetyChecker? safety, CancellationToken ct)
    {
        for (var round = 1; !ct.IsCancellationRequested; round++)
        {
            try
            {
                if (round % 10 == 0)
                {
                    foreach (var orphan in await OrphanCollector.CollectAsync(harness.Kubernetes, ns))
                    {
                        _orphans.Enqueue(orphan);
                    }
                }

                await harness.SimulateReadyDeploymentsAsync(ns);
                if (safety is not null)
                {
                    await safety.ObserveClaimsAsync(ns);
                }
            }
            catch (Exception e) when (e is KubernetesApiException or HttpRequestException or k8s.Autorest.HttpOperationException)
            {
                // Injected faults hit the kubelet too; the next round catches up.
            }

            try
            {
                // A poll period, not a wait for something: pods react about this fast.
                await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
            }
            catch (OperationCanceledException)
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
