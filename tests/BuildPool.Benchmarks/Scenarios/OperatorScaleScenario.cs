using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BuildPool.Api.V1Alpha1;
using BuildPool.Benchmarks.Report;
using BuildPool.LocalApi;
using BuildPool.Operator;
using BuildPool.Operator.Hosting;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Metrics;
using BuildPool.TestDoubles;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// The real operator against the in-process Kubernetes API emulator: how long N pools take to
/// converge, how many writes that costs, whether it stays quiet afterwards, and how much managed
/// memory it holds per object it caches.
/// </summary>
internal static class OperatorScaleScenario
{
    private const string Namespace = "default";
    private static readonly TimeSpan SteadyWindow = TimeSpan.FromSeconds(12);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(10);

    // 1,000 pools run only when 100 converged fast enough that 10× (and then some, since the
    // work grows faster than linearly with the lists) still fits the 15-minute budget of `make bench`.
    private static readonly TimeSpan LargestRunGate = TimeSpan.FromSeconds(20);

    public static async Task<string> RunAsync(bool quick)
    {
        var table = new MarkdownTable("pools", "objects cached", "converge", "reconciles", "reconcile p50 / p99", "operator API writes per pool",
            $"writes in {SteadyWindow.TotalSeconds:F0} s after convergence", "writes by a restarted operator", "operator memory per cached object", "goals");
        var notes = new List<string>();
        Result? last = null;
        var results = new List<Result>();
        foreach (var pools in quick ? new[] { 5, 20 } : [10, 100, 1_000])
        {
            if (pools == 1_000 && last is { } previous && previous.Converge > LargestRunGate)
            {
                notes.Add($"1,000 pools skipped: 100 pools took {Format.Seconds(previous.Converge)} (> {Format.Seconds(LargestRunGate)}), so 1,000 would not fit the time budget on this machine.");
                break;
            }

            var result = await RunOneAsync(pools, TimeSpan.FromSeconds(pools >= 1_000 ? 300 : 120));
            last = result;
            results.Add(result);
            var goals = pools == 1_000
                ? Format.Goal(result.Converged && result.Converge <= TimeSpan.FromSeconds(60), "≤ 60 s") + "; " + Format.Goal(result.BytesPerObject <= 10 * 1024, "≤ 10 KiB/object")
                : Format.Goal(result.BytesPerObject <= 10 * 1024, "≤ 10 KiB/object");
            table.Add(pools, result.Objects, result.Converged ? Format.Seconds(result.Converge) : $"NOT converged in {Format.Seconds(result.Converge)} ({result.Ready} ready)",
                result.Reconciles, $"{Format.Micros(result.ReconcileP50)} / {Format.Micros(result.ReconcileP99)}",
                Format.Number(result.WritesPerPool, 1), result.SteadyWrites, result.RestartWrites, Format.Bytes(result.BytesPerObject), goals);
            if (pools == (quick ? 20 : 100))
            {
                notes.Add($"Writes per pool at {pools} pools, by resource: {result.Breakdown}.");
            }
        }

        if (results.Count >= 2)
        {
            var (small, large) = (results[^2], results[^1]);
            var marginal = ((large.BytesPerObject * large.Objects) - (small.BytesPerObject * small.Objects)) / (large.Objects - small.Objects);
            notes.Add($"Marginal operator memory from {small.Objects:N0} to {large.Objects:N0} cached objects: {Format.Bytes(marginal)} per object (the fixed cost of the operator divided out).");
        }

        return $"""
            ## Operator scale

            The real operator (`BuildPoolOperator.Create`: informers, work queues, reconcilers; 2 workers
            per controller) against `BuildPool.LocalApi` with the CRDs in `crds/`, all in this process.
            Each pool: Hashed, 2 cache volumes, 1 warm builder, 10Gi volumes; pools are created 8 at a
            time. The benchmark plays the kubelet (marks Deployments ready) until every pool reports
            `Ready=True`: that moment is "converge". Builder probes go to one fake daemon every
            {ProbeInterval.TotalSeconds:F0} s. Writes are create/update/patch/delete requests the operator
            sent (the benchmark's own pool creates and Deployment status updates are subtracted); steady
            state counts every write in a {SteadyWindow.TotalSeconds:F0} s window after convergence, probes
            included. Then the operator is stopped and a fresh one started over the converged objects:
            "writes by a restarted operator" counts its writes until it has listed everything and gone
            quiet (expected 0), and memory = managed heap (after full collections) once it is quiet minus
            just before it started, divided by the objects in its informer caches.

            {table}
            {string.Join("\n", notes.Select(n => "- " + n))}
            """;
    }

    private static async Task<Result> RunOneAsync(int poolCount, TimeSpan limit)
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds, BookmarkInterval = TimeSpan.FromSeconds(5) });
        await server.StartAsync();
        await using var daemon = await FakeBuildKitDaemon.StartAsync();
        using var kubernetes = server.CreateClient();
        var pools = new ResourceClient<BuilderPool>(kubernetes);
        var deployments = new ResourceClient<V1Deployment>(kubernetes);
        using var metrics = new RuntimeMetrics();
        var reconcileSeconds = new ConcurrentQueue<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter && instrument.Name == "controller_runtime_reconcile_time_seconds")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => reconcileSeconds.Enqueue(value));
        listener.Start();

        using var stop = new CancellationTokenSource();
        var (manager, caches) = CreateOperator(kubernetes, metrics, daemon.Address);
        var run = manager.RunAsync(stop.Token);
        foreach (var informer in caches.All)
        {
            await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }

        var writesBefore = server.Stats.Snapshot();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, poolCount), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, token) => await pools.CreateAsync(Pool($"pool-{i:D4}"), token));

        var ready = 0;
        while (watch.Elapsed < limit)
        {
            if (run.IsCompleted)
            {
                await run;
                throw new InvalidOperationException("The operator stopped by itself.");
            }

            await FakeKubelet.ReadyDeploymentsAsync(deployments, Namespace);
            ready = (await pools.ListAsync(Namespace)).Count(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
            if (ready == poolCount)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        var converge = watch.Elapsed;
        var writesAfter = server.Stats.Snapshot();
        var operatorWrites = OperatorWrites(writesBefore, writesAfter);

        // Steady state: nobody but the operator (and its probes) acts now.
        var steadyBefore = server.Stats.TotalWrites;
        await Task.Delay(SteadyWindow);
        var steadyWrites = server.Stats.TotalWrites - steadyBefore;
        var reconciles = Percentiles.Sorted(reconcileSeconds.Select(s => s * 1e6));

        await StopAsync(stop, run);

        // Memory: a fresh operator over the converged objects, heap measured before it starts and
        // once it has listed everything and gone quiet. Whatever the first operator left behind
        // is in both measurements, so the difference is what one running operator holds.
        using var restartMetrics = new RuntimeMetrics();
        var restartReconciles = 0L;
        using var restartListener = new MeterListener();
        restartListener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == restartMetrics.Meter && instrument.Name == "controller_runtime_reconcile_time_seconds")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        restartListener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref restartReconciles));
        restartListener.Start();
        var withoutOperator = SettledHeap();
        var restartWritesBefore = server.Stats.TotalWrites;
        using var restartStop = new CancellationTokenSource();
        var (restartManager, restartCaches) = CreateOperator(kubernetes, restartMetrics, daemon.Address);
        var restartRun = restartManager.RunAsync(restartStop.Token);
        foreach (var informer in restartCaches.All)
        {
            await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        }

        await QuietAsync(() => Interlocked.Read(ref restartReconciles), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
        var objects = Count(restartCaches);
        var withOperator = SettledHeap();
        var restartWrites = server.Stats.TotalWrites - restartWritesBefore;
        await StopAsync(restartStop, restartRun);
        GC.KeepAlive(restartManager);

        var total = operatorWrites.Values.Sum();
        return new Result(
            ready == poolCount,
            ready,
            converge,
            objects,
            reconciles.Length,
            Percentiles.Of(reconciles, 50),
            Percentiles.Of(reconciles, 99),
            total / (double)poolCount,
            steadyWrites,
            restartWrites,
            Math.Max(0, withOperator - withoutOperator) / (double)Math.Max(1, objects),
            string.Join(", ", operatorWrites.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value / (double)poolCount:F1}")));
    }

    private static (BuildPool.Runtime.Hosting.ControllerManager Manager, OperatorCaches Caches) CreateOperator(k8s.IKubernetes kubernetes, RuntimeMetrics metrics, string daemon) =>
        BuildPoolOperator.Create(
            kubernetes,
            new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = ProbeInterval },
            TimeProvider.System,
            NullLoggerFactory.Instance,
            metrics,
            connector: new FixedBuilderConnector(daemon));

    private static async Task StopAsync(CancellationTokenSource stop, Task run)
    {
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // Stopped as asked.
        }
    }

    // Until a counter has not moved for `quiet` (bounded by `limit`): the operator went idle.
    private static async Task QuietAsync(Func<long> counter, TimeSpan quiet, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        var last = counter();
        var since = watch.Elapsed;
        while (watch.Elapsed < limit && watch.Elapsed - since < quiet)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200));
            var now = counter();
            if (now != last)
            {
                (last, since) = (now, watch.Elapsed);
            }
        }
    }

    private static int Count(OperatorCaches caches) =>
        caches.Pools.Cache.Count + caches.Volumes.Cache.Count + caches.Deployments.Cache.Count + caches.Services.Cache.Count
        + caches.ServiceAccounts.Cache.Count + caches.Roles.Cache.Count + caches.RoleBindings.Cache.Count + caches.DisruptionBudgets.Cache.Count
        + caches.NetworkPolicies.Cache.Count + caches.Claims.Cache.Count + caches.ConfigMaps.Cache.Count + caches.CacheTargets.Cache.Count;

    // Full collections until the heap stops shrinking, so finalisable leftovers are gone too.
    private static long SettledHeap()
    {
        var previous = long.MaxValue;
        var now = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 5 && now < previous; i++)
        {
            GC.WaitForPendingFinalizers();
            previous = now;
            now = GC.GetTotalMemory(forceFullCollection: true);
        }

        return now;
    }

    private static Dictionary<string, long> OperatorWrites(
        IReadOnlyDictionary<(string Verb, string Resource), long> before, IReadOnlyDictionary<(string Verb, string Resource), long> after)
    {
        string[] writeVerbs = ["create", "update", "patch", "delete", "deletecollection"];
        var writes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var ((verb, resource), count) in after)
        {
            if (!writeVerbs.Contains(verb))
            {
                continue;
            }

            // The benchmark's own writes: the pools it created and the Deployment statuses it set.
            if ((verb == "create" && resource == "builderpools") || resource == "deployments/status")
            {
                continue;
            }

            var delta = count - before.GetValueOrDefault((verb, resource));
            if (delta > 0)
            {
                var name = $"{verb} {resource}";
                writes[name] = writes.GetValueOrDefault(name) + delta;
            }
        }

        return writes;
    }

    private static BuilderPool Pool(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 2 },
            Scaling = new ScalingSpec { WarmBuilders = 1 },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" }, ReclaimPolicy = ReclaimPolicy.Retain },
        },
    };

    private sealed record Result(
        bool Converged,
        int Ready,
        TimeSpan Converge,
        int Objects,
        int Reconciles,
        double ReconcileP50,
        double ReconcileP99,
        double WritesPerPool,
        long SteadyWrites,
        long RestartWrites,
        double BytesPerObject,
        string Breakdown);
}
