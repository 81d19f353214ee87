using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Tests.Integration;
using BuildPool.TestDoubles;
using k8s.Models;
using Xunit.Abstractions;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// 30% conflicts on every update and patch, 5% 500s on every request, all watches dropped every
/// few hundred milliseconds and a 410 Gone for every informer mid-way: the pools still converge,
/// the writes per pool stay within a small multiple of what a calm run needs, and once the faults
/// stop the operator goes quiet. Writes are counted on the operator's own client, attempts included.
/// </summary>
public sealed class ApiFaultTests(ITestOutputHelper output)
{
    private const string Ns = "default";

    /// <summary>
    /// A calm run makes about 9 writes per volume (finalizer, claim, config, service, builder,
    /// status ×3–4) and 10 per pool (volumes, RBAC ×3, service, gateway, PDB, policy, status).
    /// Under these faults the successful writes barely change, while attempts vary a lot: with
    /// watches dropped every 300 ms (under the informers' 5 s "healthy watch"), quiet informers back
    /// off like client-go's reflector and their caches lag, so creates meet AlreadyExists and
    /// status writes meet real conflicts; each costs one request and a backed-off retry. Observed:
    /// about 13 successful writes and up to 50 attempts per volume. A hot loop makes hundreds a second.
    /// </summary>
    private const int SuccessfulWriteBoundPerVolume = 25;

    private const int AttemptBoundPerVolume = 120;

    [Fact]
    public Task Three_pools_converge_under_conflicts_server_errors_dropped_watches_and_a_410_with_bounded_writes_per_pool() =>
        RunAsync(pools: 3, volumes: 2, expiries: 1);

    [Fact]
    [Trait("Category", "Chaos")]
    public Task Eight_pools_converge_under_conflicts_server_errors_dropped_watches_and_repeated_410s_with_bounded_writes_per_pool() =>
        RunAsync(pools: 8, volumes: 3, expiries: 4);

    private async Task RunAsync(int pools, int volumes, int expiries)
    {
        var summary = new ChaosSummary("API faults");
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var log = new ApiLog();
        var safety = new DataSafetyChecker(h.Kubernetes);
        var specs = Enumerable.Range(0, pools).Select(i => Pool($"pool{(char)('a' + i)}", volumes, reclaim: i % 2 == 0 ? ReclaimPolicy.Retain : ReclaimPolicy.Delete)).ToList();
        foreach (var pool in specs)
        {
            await h.Pools.CreateAsync(pool);
        }

        h.Server.Faults.ConflictRate = 0.3;
        h.Server.Faults.ServerErrorRate = 0.05;
        h.Server.Faults.DropWatchesEvery = TimeSpan.FromMilliseconds(300);
        await using var kubelet = Kubelet.Start(h, Ns, safety);
        await using var op = OperatorInstance.Start(h, "op", log, safety);

        // Mid-convergence, every handed-out resourceVersion is compacted away and every watch
        // drops: each informer resumes from a revision that is gone, gets 410 and must list again.
        var expiredAt = new List<DateTimeOffset>();
        for (var i = 0; i < expiries; i++)
        {
            var writes = log.Writes().Count;
            await Eventually.WaitAsync(() => Task.FromResult(log.Writes().Count), n => n >= writes + 15, "the operator to make progress");
            expiredAt.Add(DateTimeOffset.UtcNow);
            h.Server.Faults.ExpireHistory();
            h.Server.Faults.DropWatches();
        }

        await Convergence.WaitAsync(h.Kubernetes, Ns, specs, running: op, timeout: TimeSpan.FromMinutes(3));

        // Informers list then watch; a one-off LIST (the pods read to say why a builder does not
        // start) is no informer and need not list again, whether it ran before the expiry or not.
        var watched = log.Calls.Where(c => c.Verb == "watch" && c.Started < expiredAt[0]).Select(c => c.Resource).ToHashSet(StringComparer.Ordinal);
        var listedBefore = log.Calls.Where(c => c.Verb == "list" && c.Started < expiredAt[0] && watched.Contains(c.Resource)).Select(c => c.Resource).ToHashSet(StringComparer.Ordinal);
        // An informer whose watch kept dropping backs off (up to 30 s) before it resumes, meets
        // the 410 and lists again; pools can converge before a quiet informer gets there.
        HashSet<string> Relisted() => log.Calls.Where(c => c.Verb == "list" && c.Started > expiredAt[^1] && c.Status == 200).Select(c => c.Resource).ToHashSet(StringComparer.Ordinal);
        var relisted = await Eventually.WaitAsync(() => Task.FromResult(Relisted()), r => listedBefore.IsSubsetOf(r), $"every informer ({string.Join(", ", listedBefore.Order(StringComparer.Ordinal))}) to list again after the 410", TimeSpan.FromSeconds(90));
        Assert.True(listedBefore.IsSubsetOf(relisted), $"informers that did not list again after the 410: {string.Join(", ", listedBefore.Except(relisted))}");

        var perPool = log.ReconcileWritesByPool(specs.Select(p => p.Metadata.Name));
        var succeededPerPool = log.ReconcileWritesByPool(specs.Select(p => p.Metadata.Name), succeededOnly: true);
        var conflicts = log.Calls.Count(c => c.IsReconcileWrite && c.Status == 409);
        var errors = log.Calls.Count(c => c.Status == 500);
        output.WriteLine($"faults injected: {h.Server.Faults.InjectedConflicts} conflicts, {h.Server.Faults.InjectedServerErrors} server errors, {h.Server.Faults.DroppedWatches} dropped watches, {expiries} history expiries (410)");
        output.WriteLine($"operator saw: {conflicts} conflicts on its writes, {errors} server errors; relisted {relisted.Count} resources after the last 410");
        output.WriteLine("| pool  | successful writes | bound | write attempts | bound |");
        foreach (var (pool, writes) in perPool)
        {
            output.WriteLine($"| {pool,-5} | {succeededPerPool[pool],17} | {SuccessfulWriteBoundPerVolume * volumes,5} | {writes,14} | {AttemptBoundPerVolume * volumes,5} |");
        }

        output.WriteLine("operator writes by verb, resource and answer:");

        foreach (var g in log.Calls.Where(c => c.IsReconcileWrite).GroupBy(c => (c.Verb, c.Resource, c.Status)).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {g.Key.Verb} {g.Key.Resource} -> {g.Key.Status}: {g.Count()}");
        }

        Assert.True(h.Server.Faults.InjectedConflicts > 0 && h.Server.Faults.InjectedServerErrors > 0 && h.Server.Faults.DroppedWatches > 0, "the faults were not injected");
        Assert.All(succeededPerPool, kv => Assert.True(kv.Value <= SuccessfulWriteBoundPerVolume * volumes, $"pool {kv.Key}: {kv.Value} successful writes for {volumes} volumes; a reconcile is writing in a loop"));
        Assert.All(perPool, kv => Assert.True(kv.Value <= AttemptBoundPerVolume * volumes, $"pool {kv.Key}: {kv.Value} write attempts for {volumes} volumes; a reconcile is retrying in a loop"));

        // With the faults gone the operator settles: once a round of probes passes without a
        // write (retries in flight may still land before that), two more rounds write nothing.
        h.Server.Faults.Clear();
        await Convergence.WaitAsync(h.Kubernetes, Ns, specs, running: op);
        await QuietAsync(h, log, builders: pools);

        summary.Runs = 1;
        summary.AddFaults("conflicts", h.Server.Faults.InjectedConflicts);
        summary.AddFaults("server errors", h.Server.Faults.InjectedServerErrors);
        summary.AddFaults("dropped watches", h.Server.Faults.DroppedWatches);
        summary.AddFaults("410 Gone expiries", expiries);
        summary.Violations.AddRange(await safety.FinalCheckAsync(Ns));
        summary.InvariantChecks = safety.Checks;
        summary.WriteTo(output);
        Assert.Empty(summary.Violations);
    }

    private static async Task QuietAsync(OperatorHarness h, ApiLog log, int builders)
    {
        Task ProbeRoundsAsync(int rounds)
        {
            var probes = h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers");
            return Eventually.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers")), n => n >= probes + (builders * rounds), $"{rounds} probe rounds");
        }

        for (var attempt = 0; ; attempt++)
        {
            var writes = log.Writes().Count;
            await ProbeRoundsAsync(1);
            if (log.Writes().Count == writes)
            {
                break;
            }

            Assert.True(attempt < 20, $"the operator never stopped writing: {log.Writes().Count} writes, the last: {string.Join("; ", log.Writes().TakeLast(5))}");
        }

        var settled = log.Writes().Count;
        await ProbeRoundsAsync(2);
        Assert.True(settled == log.Writes().Count, $"writes after convergence: {string.Join("; ", log.Writes().Skip(settled))}");
    }

    private static BuilderPool Pool(string name, int volumes, ReclaimPolicy reclaim) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = volumes },
            Scaling = new ScalingSpec { WarmBuilders = 1 },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" }, ReclaimPolicy = reclaim },
        },
    };
}
