using System.Diagnostics;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using BuildPool.TestDoubles;
using Grpc.Core;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>Issue 4's "Done when" against 4 fake builders behind the real gateway, driven like buildx.</summary>
public sealed class GatewayRoutingTests
{
    [Fact]
    public async Task A_build_through_the_gateway_succeeds_and_all_its_calls_reach_one_builder()
    {
        await using var harness = await GatewayHarness.StartAsync();

        var result = await harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = "webshop" });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal([harness.HomeOf("webshop")], harness.Fleet.BuildersOf(result.Ref));
        var methods = harness.Fleet.CallsOf(result.Ref).Select(c => c.Method).ToHashSet();
        Assert.Superset(new HashSet<string> { "Status", "Session", "Solve", "Ping" }, methods);
        Assert.Equal(1, result.SessionEchoes);
        // The bootstrap calls (Info, ListWorkers on their own connections) reached a builder too.
        Assert.All(result.Calls.Where(c => c.Bootstrap), c => Assert.True(c.Succeeded, c.ToString()));
    }

    [Fact]
    public async Task Repeated_session_method_headers_arrive_at_the_builder_as_separate_fields()
    {
        await using var harness = await GatewayHarness.StartAsync();

        var result = await harness.Client.BuildAsync(GatewayHarness.Project("api"));

        Assert.True(result.Succeeded, result.ToString());
        var session = harness.Fleet[result.Builder!].Builds.Sessions.Single(s => s.Id == result.SessionId);
        Assert.Equal(FakeBuildxOptions.DefaultSessionMethods, session.Methods);
        Assert.True(session.ExposesFileSync);
    }

    [Fact]
    public async Task An_image_name_key_wins_over_the_session_directory_although_the_session_arrives_first()
    {
        await using var harness = await GatewayHarness.StartAsync();
        var image = FindKey(harness, k => $"example.test/team/{k}", home => home != harness.HomeOf("ctx"));

        var result = await harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = "ctx", ExporterImage = image + ":v1", Bootstrap = false });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(harness.HomeOf(image), result.Builder);
        var summary = await WaitForSummaryAsync(harness, result.Ref);
        Assert.Equal(nameof(RoutingKeySource.ImageName), summary.KeySource);
    }

    [Fact]
    public async Task Every_repeat_of_200_projects_reaches_the_same_builder() => await RepeatsAreStickyAsync(200);

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Every_repeat_of_1000_projects_reaches_the_same_builder() => await RepeatsAreStickyAsync(1000);

    private static async Task RepeatsAreStickyAsync(int projects)
    {
        await using var harness = await GatewayHarness.StartAsync();
        var home = new Dictionary<string, string>();

        // Sequential on purpose: with builds overlapping, bounded loads may (correctly) spill a
        // repeat to the next builder; that is the concurrency test's subject, not this one's.
        for (var round = 0; round < 3; round++)
        {
            for (var p = 0; p < projects; p++)
            {
                var project = $"project-{p:D4}";
                var result = await harness.Client.BuildAsync(GatewayHarness.Project(project));
                Assert.True(result.Succeeded, result.ToString());
                Assert.Single(harness.Fleet.BuildersOf(result.Ref));
                Assert.Equal(home.TryAdd(project, result.Builder!) ? result.Builder : home[project], result.Builder);
            }
        }

        Assert.Equal(4, home.Values.Distinct().Count());
        Assert.Equal(0, harness.Gateway.Placement.TotalLoad);
    }

    [Fact]
    public async Task Concurrent_builds_keep_the_busiest_builder_within_the_bounded_load()
    {
        const int Builds = 40;
        await using var harness = await GatewayHarness.StartAsync(configure: o => o with { MaxConcurrentBuilds = Builds });
        harness.Fleet.Configure(b => b.HoldSolves = true);

        var builds = Enumerable.Range(0, Builds)
            .Select(i => harness.Client.BuildAsync(GatewayHarness.Project($"busy-{i}")))
            .ToList();
        await Eventually.TrueAsync(() => harness.Fleet.RunningSolves.Values.Sum() == Builds, "all builds run at once", TimeSpan.FromSeconds(30));
        var max = harness.Fleet.MaxConcurrentSolves;
        harness.Fleet.Configure(b => b.HoldSolves = false);
        harness.Fleet.ReleaseAll();
        var results = await Task.WhenAll(builds);

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        var bound = (int)Math.Ceiling(1.25 * Builds / 4);
        Assert.True(max.Values.Max() <= bound, $"busiest builder ran {max.Values.Max()} builds at once; bound {bound}; all: {string.Join(", ", max)}");
        Assert.All(results, r => Assert.Single(harness.Fleet.BuildersOf(r.Ref)));
    }

    [Fact]
    public async Task Removing_a_builder_moves_only_its_projects()
    {
        await using var harness = await GatewayHarness.StartAsync();
        var projects = Enumerable.Range(0, 120).Select(i => $"repo-{i}").ToList();
        var before = new Dictionary<string, string>();
        foreach (var project in projects)
        {
            var result = await harness.Client.BuildAsync(GatewayHarness.Project(project));
            Assert.True(result.Succeeded, result.ToString());
            before[project] = result.Builder!;
        }

        const string Removed = "builder-2";
        harness.Gateway.SetBackends(harness.Backends.Where(b => b.Name != Removed));
        await harness.Fleet.RemoveAsync(Removed);

        var moved = 0;
        foreach (var project in projects)
        {
            var result = await harness.Client.BuildAsync(GatewayHarness.Project(project));
            Assert.True(result.Succeeded, result.ToString());
            if (before[project] == Removed)
            {
                Assert.NotEqual(Removed, result.Builder);
                moved++;
            }
            else
            {
                Assert.Equal(before[project], result.Builder);
            }
        }

        Assert.InRange(moved, 10, 60);
    }

    [Fact]
    public async Task A_locked_backend_runs_two_builds_of_one_key_strictly_one_after_the_other()
    {
        // A Locked volume serves keys pinned to it (CacheVolume spec.keys): a hashed key would
        // (by design) spill to the next builder while its home is busy.
        await using var harness = await GatewayHarness.StartAsync(
            backend: b => b.Name == "builder-1" ? b with { MaxConcurrentBuilds = 1, Keys = ["release"] } : b);
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var home = harness.Fleet["builder-1"];

        var first = harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = "release", Bootstrap = false, Ref = "release-1" });
        await home.Builds.WaitForRunningAsync("release-1");
        var second = harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = "release", Bootstrap = false, Ref = "release-2" });
        await Eventually.TrueAsync(() => harness.Gateway.Admission.GetCounts(home.Name).Queued == 1, "the second build queues in the gateway");
        Assert.Equal(["release-1"], home.Builds.Solves.Select(s => s.Ref));

        home.Builds.Release("release-1");
        var firstResult = await first.Within(30);
        await home.Builds.WaitForRunningAsync("release-2");
        Assert.Equal(1, home.Builds.RunningSolves);
        home.Builds.Release("release-2");
        var secondResult = await second.Within(30);

        Assert.True(firstResult.Succeeded, firstResult.ToString());
        Assert.True(secondResult.Succeeded, secondResult.ToString());
        Assert.Equal(home.Name, secondResult.Builder);
        Assert.Equal(1, home.Builds.MaxConcurrentSolves);
    }

    [Fact]
    public async Task A_full_queue_times_out_with_resource_exhausted_and_the_documented_message()
    {
        await using var harness = await GatewayHarness.StartAsync(
            configure: o => o with
            {
                QueueTimeout = TimeSpan.FromMilliseconds(300),
                // Every other wait on the queued build's path is far longer than the bound below,
                // so a regression to waiting one out fails the test instead of fitting in the slack.
                Correlation = o.Correlation with { DecisionWait = TimeSpan.FromMinutes(2), SolveArrivalWait = TimeSpan.FromMinutes(2) },
            },
            backend: b => b.Name == "builder-3" ? b with { MaxConcurrentBuilds = 1, Keys = ["nightly"] } : b);
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var home = "builder-3";
        var first = harness.Client.BuildAsync(GatewayHarness.Project("nightly"));
        await Eventually.TrueAsync(() => harness.Fleet[home].Builds.RunningSolves == 1, "the first build runs");

        var watch = Stopwatch.StartNew();
        var second = await harness.Client.BuildAsync(new FakeBuildxOptions
        {
            ContextName = "nightly",
            Bootstrap = false,
            SendPing = false,
            StatusGrace = TimeSpan.FromMilliseconds(100),
        });

        Assert.Equal(StatusCode.ResourceExhausted, second.Status);
        Assert.Equal($"builder {home} is at capacity (1 running build); waited 300ms in queue", second.Message);
        // Room for a loaded machine (5 s for a whole build's calls was a race against the
        // scheduler), yet far below the 2-minute waits configured above and the client's 30 s.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        harness.Fleet.ReleaseAll();
        Assert.True((await first.Within(30)).Succeeded);
    }

    [Fact]
    public async Task A_draining_backend_gets_no_new_builds()
    {
        await using var harness = await GatewayHarness.StartAsync(
            backend: b => b.Name == "builder-0" ? b with { State = BackendState.Draining } : b);

        for (var i = 0; i < 40; i++)
        {
            var result = await harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = $"svc-{i}" });
            Assert.True(result.Succeeded, result.ToString());
        }

        Assert.Empty(harness.Fleet["builder-0"].Builds.Calls);
    }

    [Fact]
    public async Task A_build_with_no_key_follows_the_connections_earlier_keyed_build()
    {
        await using var harness = await GatewayHarness.StartAsync();
        // PlaceAny would pick builder-0 (all idle): use a project homed elsewhere to tell them apart.
        var project = FindKey(harness, k => k, home => home != "builder-0");
        await using var connection = await OneConnection.OpenAsync(harness.Gateway.EndPoint);

        var keyed = await connection.BuildAsync(sharedKey: project + ":0123456789abcdef");
        var keyless = await connection.BuildAsync(sharedKey: null);
        var elsewhere = await harness.Client.BuildAsync(new FakeBuildxOptions { SharedKey = "", Bootstrap = false });

        Assert.Equal(harness.HomeOf(project), keyed.Builder);
        Assert.Equal(StatusCode.OK, keyless.Status);
        Assert.Equal(keyed.Builder, keyless.Builder);
        Assert.True(elsewhere.Succeeded, elsewhere.ToString());
        Assert.Equal("builder-0", elsewhere.Builder);
    }

    [Fact]
    public async Task Info_and_ListWorkers_reach_a_ready_builder()
    {
        await using var harness = await GatewayHarness.StartAsync(
            backend: b => b.Name == "builder-0" ? b with { State = BackendState.Draining } : b);

        var info = await harness.Client.InfoAsync();
        var workers = await harness.Client.ListWorkersAsync();

        Assert.True(info.Succeeded, info.ToString());
        Assert.True(workers.Succeeded, workers.ToString());
        Assert.Contains(info.Builder, new[] { "builder-1", "builder-2", "builder-3" });
        Assert.Contains(workers.Builder, new[] { "builder-1", "builder-2", "builder-3" });
    }

    [Fact]
    public async Task A_builder_that_is_down_fails_its_builds_fast_with_unavailable_and_the_others_keep_building()
    {
        // The default circuit threshold (3): the failing build's own calls open it, so the keyless
        // calls of later builds (ListWorkers) stop going to the dead builder too. The connect
        // timeout is far above the bound below: a refused connect must fail the build at once,
        // and a regression to waiting the timeout out must fail this test.
        await using var harness = await GatewayHarness.StartAsync(
            configure: o => o with { Upstream = new Http2ClientPoolOptions { ConnectTimeout = TimeSpan.FromMinutes(2) } });
        var down = harness.HomeOf("payments");
        await harness.Fleet.RemoveAsync(down);

        var watch = Stopwatch.StartNew();
        var failed = await harness.Client.BuildAsync(GatewayHarness.Project("payments"));
        var elapsed = watch.Elapsed;

        Assert.Equal(StatusCode.Unavailable, failed.Status);
        // Fast means well under the client's 30 s timeout and the 2-minute connect timeout; 3 s
        // was too tight for a loaded machine.
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"failing took {elapsed}");
        for (var i = 0; i < 20; i++)
        {
            var project = $"other-{i}";
            if (harness.HomeOf(project) == down)
            {
                continue;
            }

            var result = await harness.Client.BuildAsync(GatewayHarness.Project(project));
            Assert.True(result.Succeeded, result.ToString());
        }
    }

    [Fact]
    public async Task A_builder_lost_in_the_middle_of_a_build_fails_that_build_fast_and_others_are_unaffected()
    {
        await using var harness = await GatewayHarness.StartAsync();
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var lost = harness.HomeOf("payments");
        var other = FindKey(harness, k => k, home => home != lost);

        var doomed = harness.Client.BuildAsync(GatewayHarness.Project("payments"));
        var survivor = harness.Client.BuildAsync(GatewayHarness.Project(other));
        await Eventually.TrueAsync(() => harness.Fleet[lost].Builds.RunningSolves == 1 && harness.Fleet.RunningSolves.Values.Sum() == 2, "both builds to run");

        var watch = Stopwatch.StartNew();
        await harness.Fleet.RemoveAsync(lost);
        // Whatever status the dying builder still sends (the fake one answers its held Solve with
        // Unknown as it stops), the client gets it at once instead of waiting forever.
        var failed = await doomed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(failed.Succeeded, failed.ToString());
        // Fast means well under the 30 s wait above; 10 s left a loaded machine too little room.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the lost build took {watch.Elapsed} to fail");

        harness.Fleet.ReleaseAll();
        var ok = await survivor.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(ok.Succeeded, ok.ToString());
        await Eventually.TrueAsync(() => harness.Gateway.Placement.TotalLoad == 0, "no load left on the lost builder");
    }

    [Fact]
    public async Task A_builder_whose_circuit_opened_gives_its_projects_to_the_next_builder()
    {
        await using var harness = await GatewayHarness.StartAsync(configure: o => o with { CircuitFailureThreshold = 2 });
        var down = harness.HomeOf("ledger");
        await harness.Fleet.RemoveAsync(down);

        var failed = await harness.Client.BuildAsync(GatewayHarness.Project("ledger"));
        var retried = await harness.Client.BuildAsync(GatewayHarness.Project("ledger"));

        Assert.Equal(StatusCode.Unavailable, failed.Status);
        Assert.True(harness.Gateway.Circuits.IsOpen(down));
        Assert.True(retried.Succeeded, retried.ToString());
        Assert.NotEqual(down, retried.Builder);
    }

    [Fact]
    public async Task The_gateway_counts_cached_and_total_steps_of_each_build_from_its_status_stream()
    {
        await using var harness = await GatewayHarness.StartAsync();

        var result = await harness.Client.BuildAsync(GatewayHarness.Project("docs"));
        var summary = await WaitForSummaryAsync(harness, result.Ref);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal((result.CachedSteps, result.TotalSteps), (summary.CachedSteps, summary.TotalSteps));
        Assert.Equal((2, 4), (summary.CachedSteps, summary.TotalSteps));
        Assert.Equal(("docs", nameof(RoutingKeySource.SessionDirectory), result.Builder, 0), (summary.Key, summary.KeySource, summary.Backend, summary.GrpcStatus));
    }

    [Fact]
    public async Task Stopping_the_gateway_lets_a_running_build_finish()
    {
        await using var harness = await GatewayHarness.StartAsync(configure: o => o with { ShutdownTimeout = TimeSpan.FromSeconds(20) });
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var running = harness.Client.BuildAsync(GatewayHarness.Project("long"));
        await Eventually.TrueAsync(() => harness.Fleet.RunningSolves.Values.Sum() == 1, "the build runs");

        var stopping = harness.Gateway.StopAsync();
        await Eventually.TrueAsync(() => !IsAccepting(harness), "the gateway stops accepting connections");
        Assert.False(stopping.IsCompleted);
        harness.Fleet.ReleaseAll();

        var result = await running.Within(30);
        await stopping.Within(30);
        Assert.True(result.Succeeded, result.ToString());
    }

    [Fact]
    public async Task While_one_gateway_replica_drains_its_running_build_finishes_and_new_builds_use_the_other_and_land_on_the_same_builder()
    {
        await using var harness = await GatewayHarness.StartAsync(configure: o => o with { ShutdownTimeout = TimeSpan.FromSeconds(20) });
        // A second replica over the same builders, as a pool's gateway Deployment runs two.
        await using var second = await global::BuildPool.Gateway.Server.GatewayServer.StartAsync(new global::BuildPool.Gateway.Server.GatewayOptions
        {
            Listen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            Backends = harness.Fleet.BackendArguments.Select(global::BuildPool.Gateway.Discovery.StaticBackendParser.Parse).ToList(),
        });
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var running = harness.Client.BuildAsync(GatewayHarness.Project("long"));
        await Eventually.TrueAsync(() => harness.Fleet.RunningSolves.Values.Sum() == 1, "the build runs");

        var stopping = harness.Gateway.StopAsync();
        await Eventually.TrueAsync(() => !IsAccepting(harness), "the first replica stops accepting connections");
        harness.Fleet.Configure(b => b.HoldSolves = false);
        var next = await FakeBuildxClient.For(second.Address).BuildAsync(GatewayHarness.Project("long"));
        Assert.True(next.Succeeded, next.ToString());
        Assert.Equal(harness.HomeOf("long"), next.Builder);

        harness.Fleet.ReleaseAll();
        var result = await running.Within(30);
        await stopping.Within(30);
        Assert.True(result.Succeeded, result.ToString());
    }

    private static bool IsAccepting(GatewayHarness harness)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            socket.Connect(harness.Gateway.EndPoint);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static string FindKey(GatewayHarness harness, Func<string, string> key, Func<string, bool> homeIs)
    {
        for (var i = 0; ; i++)
        {
            var candidate = key($"project-{i}");
            if (homeIs(harness.HomeOf(candidate)))
            {
                return candidate;
            }
        }
    }

    private static async Task<Gateway.Builds.BuildSummary> WaitForSummaryAsync(GatewayHarness harness, string reference)
    {
        Gateway.Builds.BuildSummary? summary = null;
        await Eventually.TrueAsync(() => (summary = harness.Gateway.Builds.RecentBuilds.FirstOrDefault(b => b.Ref == reference)) is not null, "the build's summary");
        return summary!;
    }
}
