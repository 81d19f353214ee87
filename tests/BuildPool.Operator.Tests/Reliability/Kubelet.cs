using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// Plays the kubelet for a whole chaos run, in the background: builder and gateway pods become
/// ready (or go away) as their Deployments ask, and the data-safety checker samples the claims.
/// </summary>
internal sealed class Kubelet : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private Kubelet(OperatorHarness harness, string ns, DataSafetyChecker? safety)
    {
        _loop = Task.Run(() => RunAsync(harness, ns, safety, _stop.Token), CancellationToken.None);
    }

    public static Kubelet Start(OperatorHarness harness, string ns, DataSafetyChecker? safety = null) => new(harness, ns, safety);

    private static async Task RunAsync(OperatorHarness harness, string ns, DataSafetyChecker? safety, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
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
