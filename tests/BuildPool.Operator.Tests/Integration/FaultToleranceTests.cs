using BuildPool.Api.V1Alpha1;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class FaultToleranceTests
{
    private const string Ns = "default";

    [Fact]
    public async Task Pools_converge_with_thirty_percent_conflicts_server_errors_and_dropped_watches_and_writes_stay_bounded()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        for (var i = 0; i < 3; i++)
        {
            await h.Pools.CreateAsync(new BuilderPool
            {
                Metadata = new V1ObjectMeta { Name = $"p{i}", NamespaceProperty = Ns },
                Spec = new BuilderPoolSpec
                {
                    Assignment = new AssignmentSpec { Volumes = 2 },
                    Scaling = new ScalingSpec { WarmBuilders = 2 },
                    Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" } },
                },
            });
        }

        h.Server.Faults.ConflictRate = 0.3;
        h.Server.Faults.ServerErrorRate = 0.05;
        h.Server.Faults.DropWatchesEvery = TimeSpan.FromMilliseconds(500);
        h.StartOperator();
        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count > 0, "the first volume");
        // Mid-convergence: every watch drops, and resuming from the old revisions gets 410 Gone.
        h.Server.Faults.ExpireHistory();
        h.Server.Faults.DropWatches();
        await h.WaitAsync(async () =>
        {
            try
            {
                await h.SimulateReadyDeploymentsAsync(Ns);
            }
            catch (k8s.Autorest.HttpOperationException)
            {
                // The injected faults hit the test's own writes too.
            }
            catch (Runtime.Client.KubernetesApiException)
            {
            }

            return await h.Pools.ListAsync(Ns);
        }, pools => pools.Count == 3 && pools.All(p => p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True")),
            "three pools to become Ready despite faults", TimeSpan.FromMinutes(2));

        Assert.True(h.Server.Faults.InjectedConflicts > 0, "no conflict was injected");
        Assert.True(h.Server.Faults.DroppedWatches > 0, "no watch was dropped");
        // 3 pools × (2 volumes × 4 children + 7 pool children + statuses): a hot loop would write thousands.
        var writes = h.Server.Stats.TotalWrites;
        Assert.True(writes < 600, $"{writes} writes for 3 pools: a reconcile is writing in a loop");

        // And once converged, with the faults gone, the operator goes quiet: after one quiet
        // round of probes (in-flight retries may still land before it), two more rounds write nothing.
        h.Server.Faults.Clear();
        await WaitForQuietRoundAsync(h);
        var settled = h.Server.Stats.TotalWrites;
        await ProbeRoundsAsync(h, rounds: 2);
        Assert.Equal(settled, h.Server.Stats.TotalWrites);
    }

    // Every ready builder is probed about once per probe interval; 6 builders here.
    private static Task ProbeRoundsAsync(OperatorHarness h, int rounds)
    {
        var probes = h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers");
        return h.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers")), n => n >= probes + (6 * rounds), $"{rounds} probe rounds");
    }

    private static async Task WaitForQuietRoundAsync(OperatorHarness h)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var writes = h.Server.Stats.TotalWrites;
            await ProbeRoundsAsync(h, rounds: 1);
            if (h.Server.Stats.TotalWrites == writes)
            {
                return;
            }
        }

        Assert.Fail($"the operator never stopped writing: {h.Server.Stats.TotalWrites} writes");
    }
}
