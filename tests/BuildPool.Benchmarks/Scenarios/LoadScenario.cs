using System.Diagnostics;
using System.Net;
using System.Text;
using BuildPool.Benchmarks.Report;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.TestDoubles;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// A CI fleet at its busiest (issue 18): four times as many buildx-shaped builds as the builders
/// have slots arrive at once, through the in-process gateway and straight to the same kind of fake
/// builders, which give up on a build they have not seen as buildkitd does. Every build must
/// succeed; a failed one fails the section.
/// </summary>
internal static class LoadScenario
{
    private const int Builders = 3;
    private const int SlotsPerBuilder = 4;
    private const int Projects = 12;
    private const int Slots = Builders * SlotsPerBuilder;
    private const int Count = 4 * Slots;
    private const int Rounds = (Count + Slots - 1) / Slots;

    // Far above any wait the scenario can cause, so a build that hangs shows up as a failure, not as a slow run.
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(2);

    public static async Task<string> RunAsync(bool quick)
    {
        var solveDuration = quick ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(2);
        var repeats = quick ? 1 : 3;

        await using var direct = await FakeBuilderFleet.StartAsync(Builders, "direct-");
        await using var behind = await FakeBuilderFleet.StartAsync(Builders, "load-");
        direct.Configure(b => b.SolveDuration = solveDuration);
        behind.Configure(b => b.SolveDuration = solveDuration);
        await using var gateway = await GatewayServer.StartAsync(new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Backends = [.. behind.BackendArguments.Select(StaticBackendParser.Parse)],
            MaxConcurrentBuilds = SlotsPerBuilder,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        var directClients = direct.Builders.Select(b => FakeBuildxClient.For(b.Address)).ToArray();
        var gatewayClient = FakeBuildxClient.For(gateway.Address);
        var paths = new[]
        {
            new Path("direct (builds spread evenly, each builder runs all of its builds at once)", direct, null, i => directClients[i % Builders], 1),
            new Path("gateway (static backends, `maxConcurrentBuilds` 4)", behind, gateway, _ => gatewayClient, Rounds),
        };

        // One unmeasured round per path first, so JIT tiering and connection set-up hit no measured run.
        var failures = new List<(string Run, FakeBuildxResult Result)>();
        foreach (var path in paths)
        {
            var warmup = await RunOnceAsync(path, Slots);
            failures.AddRange(warmup.Failures.Select(f => ($"{path.Name}, warm-up", f)));
        }

        var runs = paths.Select(_ => new List<Run>()).ToList();
        for (var r = 0; r < repeats; r++)
        {
            // Alternate which path goes first, so drift on a shared machine hits both alike.
            foreach (var k in r % 2 == 0 ? new[] { 0, 1 } : new[] { 1, 0 })
            {
                var run = await RunOnceAsync(paths[k], Count);
                runs[k].Add(run);
                failures.AddRange(run.Failures.Select(f => ($"{paths[k].Name}, run {r + 1}", f)));
            }
        }

        var table = new MarkdownTable(
            "path", "runs (wall)", "median wall", "vs direct", "ideal wall", "median vs ideal", "builds", "failed",
            "build time p50 / p95 (client)", "queue wait p50 / p95 / max", "most Solves at once on a builder", "goal (0 failed)");
        var directMedian = MedianWall(runs[0]);
        for (var k = 0; k < paths.Length; k++)
        {
            var path = paths[k];
            var median = MedianWall(runs[k]);
            var ideal = path.Rounds * solveDuration;
            var builds = runs[k].Sum(r => r.Builds.Count);
            var failed = runs[k].Sum(r => r.Failures.Count);
            var times = Percentiles.Sorted(runs[k].SelectMany(r => r.Builds).Select(b => b.Elapsed.TotalSeconds));
            var waits = Percentiles.Sorted(runs[k].SelectMany(r => r.QueueWaits).Select(w => w.TotalSeconds));
            table.Add(
                path.Name,
                string.Join(", ", runs[k].Select(r => Seconds(r.Wall))),
                Seconds(median),
                k == 0 ? "—" : Format.Ratio(median / directMedian),
                $"{Seconds(ideal)} ({path.Rounds} × {Seconds(solveDuration)})",
                Format.Ratio(median / ideal),
                builds,
                failed,
                $"{Seconds(times, 50)} / {Seconds(times, 95)}",
                path.Gateway is null ? "— (no queue)" : $"{Seconds(waits, 50)} / {Seconds(waits, 95)} / {Seconds(waits, 100)}",
                runs[k].Max(r => r.MostSolvesAtOnce),
                Format.Goal(failed == 0, "0 failed"));
        }

        var longestWait = runs[1].SelectMany(r => r.QueueWaits).DefaultIfEmpty().Max();
        var spread = string.Join("; ", runs[1].Select(r => r.PerBuilder).Distinct(StringComparer.Ordinal));
        var busiest = runs[1].Max(r => r.BusiestBuilder);
        var busiestRounds = (busiest + SlotsPerBuilder - 1) / SlotsPerBuilder;
        var text = new StringBuilder($"""
            ## Builds at peak load

            {Count} builds arrive at once: {Projects} projects (routing keys) × {Count / Projects} jobs, each a
            `FakeBuildxClient` build shaped as buildx sends it (Info and ListWorkers on their own connections,
            then one connection with Status opened before the Solve, the Session, the Solve and an LLBBridge
            `Ping` while it runs). {Builders} fake builders (`FakeBuildKitDaemon`) per path, each Solve running
            {Seconds(solveDuration)}; the builders wait for a build they have not seen as buildkitd v0.24 does
            (Status 6 s, LLBBridge 3 s, the Solve's session 5 s, then `no such job`). Through the gateway
            each builder takes {SlotsPerBuilder} builds at a time ({Slots} slots in all, so {Count} builds are
            {Count / Slots}× the slots) and queues the rest; sent directly, each builder runs every build it
            gets at once. Everything runs in this one process on loopback. One unmeasured round of {Slots}
            builds per path, then {repeats} run(s) per path, the paths alternating. Wall = first build
            started to last build ended; ideal wall = rounds of builds × build time, so the gateway's
            ideal is {Rounds} rounds however fast it is. Build time is each build's own, start to end, at the
            client; queue wait is the gateway's own (`BuildSummary.QueueWait`).

            {table}
            """);
        text.AppendLine();
        text.AppendLine($"Builds per builder through the gateway (placement by key with bounded loads, c = 1.25), per run: {spread}. " +
            $"The busiest builder had {busiest} builds, {busiestRounds} rounds of {SlotsPerBuilder} ({Seconds(busiestRounds * solveDuration)} at best), " +
            $"so placement, not the queue, sets the gateway's wall beyond the ideal {Rounds} rounds. {Versus(longestWait)}");
        if (failures.Count > 0)
        {
            text.AppendLine();
            text.AppendLine($"**FAILED: {failures.Count} build(s) failed** (every build must succeed). Reasons, with the number of builds:");
            text.AppendLine();
            foreach (var group in failures.GroupBy(f => $"{f.Run}: {f.Result.Status} {f.Result.Message}", StringComparer.Ordinal))
            {
                text.AppendLine($"- {group.Count()} × {group.Key} (e.g. {group.First().Result})");
            }

            throw new SectionFailedException(text.ToString(), $"{failures.Count} build(s) failed; first: {failures[0].Result}");
        }

        return text.ToString();
    }

    private static async Task<Run> RunOnceAsync(Path path, int count)
    {
        path.Fleet.Configure(b => b.ResetCounters());
        var watch = Stopwatch.StartNew();
        var builds = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var options = new FakeBuildxOptions { ContextName = $"project-{i % Projects}", Timeout = BuildTimeout };
            var started = watch.Elapsed;
            var result = await path.ClientOf(i).BuildAsync(options);
            return new Build(result, watch.Elapsed - started);
        }));
        var wall = watch.Elapsed;
        var failures = builds.Where(b => !b.Result.Succeeded).Select(b => b.Result).ToList();
        var perBuilder = builds.GroupBy(b => b.Result.Builder ?? "none").OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var mostAtOnce = path.Fleet.MaxConcurrentSolves.Values.Max();
        IReadOnlyList<TimeSpan> waits = [];
        if (path.Gateway is { } gateway)
        {
            // The gateway reports a build when its Solve ends, which may be just after the client saw it end.
            var refs = builds.Select(b => b.Result.Ref).ToHashSet(StringComparer.Ordinal);
            try
            {
                var summaries = await Eventually.WaitAsync(
                    () => Task.FromResult(gateway.Builds.RecentBuilds.Where(s => refs.Contains(s.Ref)).ToList()),
                    s => s.Count == refs.Count, "the gateway's summary of every build", TimeSpan.FromSeconds(10));
                waits = summaries.Select(s => s.QueueWait).ToList();
            }
            catch (TimeoutException ex)
            {
                throw new SectionFailedException($"## Builds at peak load\n\nFAILED: {ex.Message}\n", ex.Message);
            }
        }

        return new Run(
            builds, wall, failures, waits, string.Join(", ", perBuilder.Select(g => $"{g.Key} {g.Count()}")), perBuilder.Max(g => g.Count()), mostAtOnce);
    }

    private static TimeSpan MedianWall(List<Run> runs) =>
        TimeSpan.FromSeconds(Percentiles.Of(Percentiles.Sorted(runs.Select(r => r.Wall.TotalSeconds)), 50));

    private static string Versus(TimeSpan wait)
    {
        var longest = $"The longest queue wait, {Seconds(wait)}, is";
        const string Before = "before issue 18 the gateway forwarded a queued build's Status and LLBBridge calls at once, and a build queued past BuildKit's waits failed with `no such job`.";
        return wait.TotalSeconds switch
        {
            > 6 => $"{longest} longer than both of BuildKit's waits for a build it has not seen (Status 6 s, LLBBridge 3 s): {Before}",
            > 3 => $"{longest} longer than BuildKit's 3 s LLBBridge wait for a build it has not seen (Status waits 6 s): {Before}",
            _ => $"{longest} shorter than BuildKit's waits for a build it has not seen (LLBBridge 3 s, Status 6 s), so this run does not test them.",
        };
    }

    private static string Seconds(TimeSpan value) => Format.Number(value.TotalSeconds, 2) + " s";

    private static string Seconds(double[] sorted, double percentile) => Format.Number(Percentiles.Of(sorted, percentile), 2) + " s";

    /// <param name="Rounds">How many rounds of builds the path needs at best: 1 when every build runs at once.</param>
    private sealed record Path(string Name, FakeBuilderFleet Fleet, GatewayServer? Gateway, Func<int, FakeBuildxClient> ClientOf, int Rounds);

    private sealed record Build(FakeBuildxResult Result, TimeSpan Elapsed);

    private sealed record Run(
        IReadOnlyList<Build> Builds, TimeSpan Wall, IReadOnlyList<FakeBuildxResult> Failures, IReadOnlyList<TimeSpan> QueueWaits, string PerBuilder, int BusiestBuilder, int MostSolvesAtOnce);
}
