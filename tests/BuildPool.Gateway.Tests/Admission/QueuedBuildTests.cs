using System.Diagnostics;
using BuildPool.Gateway.Tests.Server;
using BuildPool.Gateway.Tests.Support;
using BuildPool.TestDoubles;
using Grpc.Core;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Admission;

/// <summary>
/// Builds that wait in the gateway's admission queue, against builders that give up on a build
/// they have not seen as buildkitd does (Status after 6 s, LLBBridge after 3 s): buildx sends a
/// build's Status and LLBBridge calls while its Solve waits, so the gateway must hold them too.
/// </summary>
public sealed class QueuedBuildTests
{
    private const string Home = "builder-1";

    public static TheoryData<string, string[]> Keys => new()
    {
        { "one key", ["release"] },
        { "several keys", ["api", "web", "worker"] },
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task Three_times_max_concurrent_builds_all_succeed_in_arrival_order_although_each_queues_longer_than_the_builder_waits(string name, string[] keys)
    {
        _ = name;
        await using var harness = await StartAsync(maxConcurrentBuilds: 2, keys);
        // The builder's waits scaled down with the build time, so the test stays short: each build
        // runs longer than both waits, and the last ones queue for two whole builds.
        harness.Fleet.Configure(b =>
        {
            b.StatusWaitTimeout = TimeSpan.FromSeconds(1);
            b.BuildIdWaitTimeout = TimeSpan.FromMilliseconds(500);
            b.SolveDuration = TimeSpan.FromMilliseconds(1500);
        });

        var results = await BuildInArrivalOrderAsync(harness, count: 6, i => keys[i % keys.Length]);

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        Assert.All(results, r => Assert.Equal(Home, r.Builder));
        // First come, first served: builds admitted in the same instant (two slots freed at once)
        // may reach the builder in either order, none overtakes a build that queued a round earlier.
        var solved = harness.Fleet[Home].Builds.Solves.Select(s => s.Ref).ToList();
        Assert.All(results.Select((r, i) => (r.Ref, i)), b => Assert.InRange(solved.IndexOf(b.Ref), b.i - 1, b.i + 1));
        Assert.Equal(2, harness.Fleet[Home].Builds.MaxConcurrentSolves);
    }

    [Fact]
    public async Task Builds_queued_longer_than_buildkits_own_six_and_three_second_waits_all_succeed()
    {
        await using var harness = await StartAsync(maxConcurrentBuilds: 1, ["release"]);
        // BuildKit's own waits (the double's defaults), and builds that each run longer than them.
        harness.Fleet.Configure(b => b.SolveDuration = TimeSpan.FromSeconds(6.5));

        var results = await BuildInArrivalOrderAsync(harness, count: 3, _ => "release", timeout: TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        Assert.Equal(results.Select(r => r.Ref), harness.Fleet[Home].Builds.Solves.Select(s => s.Ref));
    }

    [Fact]
    public async Task A_queued_build_whose_client_leaves_frees_its_place_and_none_of_its_calls_reach_the_builder()
    {
        await using var harness = await StartAsync(maxConcurrentBuilds: 1, ["release"]);
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var home = harness.Fleet[Home];
        var (firstOptions, first) = await RunningAsync(harness, "release");
        using var leaving = new CancellationTokenSource();
        var (secondOptions, second) = await QueuedAsync(harness, "release", queued: 1, leaving.Token);
        var (thirdOptions, third) = await QueuedAsync(harness, "release", queued: 2);

        await leaving.CancelAsync();
        await Eventually.TrueAsync(() => harness.Gateway.Admission.GetCounts(Home).Queued == 1, "the second build leaves the queue");
        home.Builds.Release(firstOptions.Ref);
        home.Builds.Release(thirdOptions.Ref);

        Assert.True((await first.Within(30)).Succeeded);
        var thirdResult = await third.Within(30);
        Assert.True(thirdResult.Succeeded, thirdResult.ToString());
        Assert.False((await second.Within(30)).Succeeded);
        Assert.Empty(harness.Fleet.CallsOf(secondOptions.Ref));
        Assert.Equal([firstOptions.Ref, thirdOptions.Ref], home.Builds.Solves.Select(s => s.Ref));
    }

    [Fact]
    public async Task A_queued_builds_status_shows_the_gateways_wait_first_and_then_the_builders_steps()
    {
        await using var harness = await StartAsync(maxConcurrentBuilds: 1, ["release"]);
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var home = harness.Fleet[Home];
        var (firstOptions, first) = await RunningAsync(harness, "release");
        var (secondOptions, second) = await QueuedAsync(harness, "release", queued: 1);

        home.Builds.Release(firstOptions.Ref);
        home.Builds.Release(secondOptions.Ref);
        var result = await second.Within(30);

        Assert.True(result.Succeeded, result.ToString());
        var wait = result.Vertexes[0];
        Assert.StartsWith($"[buildpool] waiting for a slot on builder {Home} (", wait.Name);
        Assert.NotNull(wait.Completed);
        Assert.Empty(wait.Error);
        Assert.Equal(home.Builds.Steps.Select(s => s.Name), result.Vertexes.Skip(1).Select(v => v.Name));
        // The gateway's own vertex is not a step of the build: the cache hit count is the builder's.
        await Eventually.TrueAsync(() => harness.Gateway.Builds.RecentBuilds.Any(b => b.Ref == secondOptions.Ref), "the build is reported");
        var summary = harness.Gateway.Builds.RecentBuilds.Single(b => b.Ref == secondOptions.Ref);
        Assert.Equal(home.Builds.Steps.Count, summary.TotalSteps);
        Assert.True(summary.QueueWait > TimeSpan.Zero);
        Assert.True((await first.Within(30)).Succeeded);
    }

    [Fact]
    public async Task A_build_that_times_out_in_the_queue_fails_with_resource_exhausted_and_its_status_never_reaches_the_builder()
    {
        await using var harness = await StartAsync(maxConcurrentBuilds: 1, ["nightly"], queueTimeout: TimeSpan.FromMilliseconds(300));
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var (_, first) = await RunningAsync(harness, "nightly");

        var watch = Stopwatch.StartNew();
        var options = new FakeBuildxOptions { ContextName = "nightly", Bootstrap = false, SendPing = false };
        var second = await harness.Client.BuildAsync(options);

        Assert.Equal(StatusCode.ResourceExhausted, second.Status);
        Assert.Equal($"builder {Home} is at capacity (1 running build); waited 300ms in queue", second.Message);
        var status = Assert.Single(second.Calls, c => c.Method == "Status");
        Assert.Equal(StatusCode.ResourceExhausted, status.Status);
        Assert.Empty(harness.Fleet.CallsOf(options.Ref));
        // The queue timeout, not a builder's or the client's own wait, ended the build.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        harness.Fleet.ReleaseAll();
        Assert.True((await first.Within(30)).Succeeded);
    }

    // Starts a build of key and waits until it runs on the home builder (whose Solves are held).
    private static async Task<(FakeBuildxOptions Options, Task<FakeBuildxResult> Build)> RunningAsync(GatewayHarness harness, string key)
    {
        var options = Build(key);
        var build = harness.Client.BuildAsync(options);
        await harness.Fleet[Home].Builds.WaitForRunningAsync(options.Ref);
        return (options, build);
    }

    // Starts a build of key and waits until it is the queued-th build waiting for the home builder.
    private static async Task<(FakeBuildxOptions Options, Task<FakeBuildxResult> Build)> QueuedAsync(GatewayHarness harness, string key, int queued, CancellationToken cancellationToken = default)
    {
        var options = Build(key);
        var build = harness.Client.BuildAsync(options, cancellationToken);
        await Eventually.TrueAsync(() => harness.Gateway.Admission.GetCounts(Home).Queued == queued, $"build {options.Ref} queues as number {queued}");
        return (options, build);
    }

    private static FakeBuildxOptions Build(string key) => new() { ContextName = key, Bootstrap = false };

    private static Task<GatewayHarness> StartAsync(int maxConcurrentBuilds, string[] keys, TimeSpan? queueTimeout = null) =>
        GatewayHarness.StartAsync(
            configure: o => queueTimeout is { } timeout ? o with { QueueTimeout = timeout } : o,
            backend: b => b.Name == Home ? b with { MaxConcurrentBuilds = maxConcurrentBuilds, Keys = keys } : b);

    // Starts the builds one after another, each once the previous one runs or queues in the
    // gateway, so their arrival order is known; then waits for all of them.
    private static async Task<FakeBuildxResult[]> BuildInArrivalOrderAsync(GatewayHarness harness, int count, Func<int, string> keyOf, TimeSpan? timeout = null)
    {
        var builds = new List<Task<FakeBuildxResult>>();
        for (var i = 0; i < count; i++)
        {
            var options = new FakeBuildxOptions { ContextName = keyOf(i), Bootstrap = false, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
            builds.Add(harness.Client.BuildAsync(options));
            var admitted = i + 1;
            await Eventually.TrueAsync(
                () => harness.Gateway.Admission.GetCounts(Home) is var c && c.Running + c.Queued + harness.Fleet[Home].Builds.CompletedSolves >= admitted,
                $"build {admitted} arrives at the gateway");
        }

        return await Task.WhenAll(builds).WaitAsync(TimeSpan.FromSeconds(90));
    }
}
