using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Server;
using BuildPool.TestDoubles;
using Grpc.Core;
using Xunit.Abstractions;

namespace BuildPool.Gateway.Tests.Fuzz;

/// <summary>
/// Issue 19 item 5: the gateway's own HTTP/2 client fed hostile bytes. Builds go through the
/// gateway to a <see cref="HostileBuilder"/> that answers every forwarded call with a generated
/// or mutated byte stream (<see cref="UpstreamFuzzAnswers"/>); one input is one answer, each on
/// a connection of its own, and builds run until the builder gave as many answers as asked.
/// Every build must end in a gRPC status within its deadline (none stuck); after every batch no build is tracked, no slot is
/// held, no placement load is left, managed memory stayed bounded, and a real build on the
/// honest builder succeeds. The seed is printed; <c>BUILDPOOL_FUZZ_SEED</c> reruns one.
/// </summary>
[Collection(nameof(UpstreamFuzzTests))]
[CollectionDefinition(nameof(UpstreamFuzzTests), DisableParallelization = true)]
public sealed class UpstreamFuzzTests(ITestOutputHelper output)
{
    private const string SeedVariable = "BUILDPOOL_FUZZ_SEED";
    private const string Hostile = "hostile";
    private const int Parallelism = 32;
    private const long MemoryBound = 256L << 20;
    private static readonly TimeSpan BuildDeadline = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ClientGiveUpGrace = TimeSpan.FromSeconds(30);

    [Fact]
    public Task Two_thousand_hostile_builder_answers_end_every_build_and_leak_nothing() =>
        FuzzAsync(inputs: 2_000, batch: 500, defaultSeed: 19_5_2026);

    [Fact]
    [Trait("Category", "Chaos")]
    public Task A_hundred_thousand_hostile_builder_answers_end_every_build_and_leak_nothing() =>
        FuzzAsync(inputs: 100_000, batch: 5_000, defaultSeed: null);

    private async Task FuzzAsync(int inputs, int batch, int? defaultSeed)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var fixedSeed)
            ? fixedSeed
            : defaultSeed ?? Random.Shared.Next();
        output.WriteLine($"upstream fuzz seed {seed} (rerun with {SeedVariable}={seed})");
        await using var hostile = HostileBuilder.Start(Hostile, r => UpstreamFuzzAnswers.Next(new Random(unchecked((seed * 1_000_003) + r.Index)), r.StreamId));
        // One stream per connection: an answer that breaks its connection breaks only its own call.
        hostile.MaxConcurrentStreams = 1;
        hostile.OneAnswerPerConnection = true;
        await using var harness = await GatewayHarness.StartAsync(
            builders: 1,
            configure: o => o with
            {
                Backends = [.. o.Backends, new StaticBackend(Hostile, hostile.EndPoint) { MaxConcurrentBuilds = Parallelism }],
                Upstream = HostileBuilderTests.ShortKeepAlive(maxConnectionsPerBackend: Parallelism * 2),
                // Failures and a crowd on one key are the point here: the hostile builder must keep
                // getting every fuzz build, never spill them to the honest one.
                CircuitFailureThreshold = int.MaxValue,
                MinimumLoadBound = 1_000_000,
                Correlation = new Gateway.Builds.BuildCorrelatorOptions { EndedGrace = TimeSpan.FromSeconds(1) },
            });
        var project = harness.ProjectOn(Hostile, "fuzz");
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        var clock = Stopwatch.StartNew();
        for (var from = 0; from < inputs; from += batch)
        {
            var to = Math.Min(inputs, from + batch);
            try
            {
                while (hostile.Requests < to)
                {
                    var before = hostile.Requests;
                    await Parallel.ForEachAsync(
                        Enumerable.Range(0, Parallelism * 4),
                        new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
                        async (_, _) => Count(outcomes, await BuildAsync(harness, project)));
                    Assert.True(hostile.Requests > before, $"{Parallelism * 4} builds and not one call reached the hostile builder");
                }

                // A stuck build fails the run at the end of its batch, not after every other batch.
                Assert.False(outcomes.Keys.Any(IsStuck), "a build did not end within its deadline");
                await NothingHeldAsync(harness.Gateway);
                Progress($"inputs {from}..{to - 1} after {clock.Elapsed.TotalSeconds:F0} s: {Describe(outcomes, hostile)}");
                var grown = GC.GetTotalMemory(forceFullCollection: true) - baseline;
                peak = Math.Max(peak, grown);
                Assert.True(grown < MemoryBound, $"managed memory grew {grown >> 20} MiB over the run (bound {MemoryBound >> 20} MiB)");
                var real = await harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn("builder-0", $"honest-{from}"))).WaitAsync(TimeSpan.FromSeconds(30));
                Assert.True(real.Succeeded, $"a real build on the honest builder failed: {real}");
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"Upstream fuzz seed {seed} (rerun with {SeedVariable}={seed}), inputs {from}..{to - 1}: {ex.Message}{Environment.NewLine}{Describe(outcomes, hostile)}", ex);
            }
        }

        output.WriteLine($"{hostile.Requests} answers to {outcomes.Values.Sum()} builds in {clock.Elapsed.TotalSeconds:F1} s; {Describe(outcomes, hostile)}; managed memory peak +{peak >> 20} MiB");
        Assert.False(outcomes.Keys.Any(IsStuck), Describe(outcomes, hostile));
        Assert.True(hostile.Requests >= inputs, $"the hostile builder gave {hostile.Requests} answers, {inputs} asked");
    }

    private static async Task<string> BuildAsync(GatewayHarness harness, string project)
    {
        var clock = Stopwatch.StartNew();
        FakeBuildxResult result;
        try
        {
            result = await harness.Client.BuildAsync(new FakeBuildxOptions
            {
                ContextName = project,
                Bootstrap = false,
                SendPing = false,
                Timeout = BuildDeadline,
                // Longer than keep-alive takes to end a silent builder's connection.
                StatusGrace = TimeSpan.FromSeconds(5),
            }).WaitAsync(BuildDeadline + ClientGiveUpGrace);
        }
        catch (TimeoutException)
        {
            // The fake client itself did not return after its deadline: say so rather than hang the suite.
            return "stuck (client did not return)";
        }

        // A build (or its Status stream) the client had to give up on means a call the gateway never ended.
        // Stuck outcomes name the calls still open at the deadline, so a failure says where to look.
        return clock.Elapsed >= BuildDeadline || result.Status == StatusCode.DeadlineExceeded
            ? "stuck (" + string.Join(", ", result.Calls.Where(c => c.Status == StatusCode.DeadlineExceeded).Select(c => c.Method)) + ")"
            : result.Status.ToString();
    }

    // A long run's batches as they end, for a person watching (BUILDPOOL_FUZZ_PROGRESS=FILE).
    private static void Progress(string line)
    {
        if (Environment.GetEnvironmentVariable("BUILDPOOL_FUZZ_PROGRESS") is { Length: > 0 } path)
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }

    private static bool IsStuck(string outcome) => outcome.StartsWith("stuck", StringComparison.Ordinal);

    private static void Count(ConcurrentDictionary<string, int> outcomes, string outcome) =>
        outcomes.AddOrUpdate(outcome, 1, static (_, n) => n + 1);

    private static string Describe(ConcurrentDictionary<string, int> outcomes, HostileBuilder hostile) =>
        "builds: " + string.Join(", ", outcomes.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}")) +
        $"; builder connections {hostile.Connections} ({string.Join(", ", hostile.Outcomes.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))})" +
        $"; streams the gateway left open over {BuildDeadline.TotalSeconds:0} s: ({string.Join(", ", hostile.StreamsOpenLongerThan(BuildDeadline).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))})";

    private static Task NothingHeldAsync(GatewayServer gateway) =>
        BuildPool.TestDoubles.Eventually.WaitAsync(
            () => Task.FromResult((Tracked: gateway.Builds.TrackedBuilds, Running: gateway.Admission.TotalRunning, Queued: gateway.Admission.TotalQueued, Load: gateway.Placement.TotalLoad)),
            held => held is { Tracked: 0, Running: 0, Queued: 0, Load: 0 },
            "no tracked build, admission slot, queued build or placement load after the batch",
            TimeSpan.FromSeconds(30));
}
