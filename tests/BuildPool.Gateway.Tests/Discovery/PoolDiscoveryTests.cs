using System.Diagnostics;
using System.Globalization;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tests.Support;
using BuildPool.TestDoubles;
using Grpc.Core;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Discovery;

/// <summary>
/// <c>buildpool gateway --pool</c> against the local API: the CacheVolumes are the builders, their
/// phases steer routing, and the gateway asks for cold builders through annotations (docs/lifecycle.md).
/// The test writes the volumes' status in the operator's place.
/// </summary>
public sealed class PoolDiscoveryTests
{
    private static readonly string[] ThreeVolumes = ["pool-0", "pool-1", "pool-2"];

    [Fact]
    public async Task Builds_route_to_the_ready_volumes_of_the_pool_at_their_status_endpoints()
    {
        await using var h = await PoolGatewayHarness.StartAsync(ThreeVolumes);

        Assert.Equal(ThreeVolumes, h.Gateway.Placement.Backends.Select(b => b.Id));
        Assert.All(h.Gateway.Placement.Backends, b => Assert.Equal(BackendState.Ready, b.State));
        foreach (var volume in ThreeVolumes)
        {
            var project = h.ProjectHomedOn(volume);
            var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false });

            Assert.True(result.Succeeded, result.ToString());
            Assert.Equal([volume], h.Fleet.BuildersOf(result.Ref));
        }
    }

    [Fact]
    public async Task A_volume_switched_to_draining_gets_no_new_builds()
    {
        await using var h = await PoolGatewayHarness.StartAsync(ThreeVolumes);
        var project = h.ProjectHomedOn("pool-1");

        await h.SetPhaseAsync("pool-1", CacheVolumePhase.Draining);
        var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false });

        Assert.True(result.Succeeded, result.ToString());
        Assert.NotEqual("pool-1", result.Builder);
        Assert.Empty(h.Fleet["pool-1"].Builds.Calls);
    }

    [Fact]
    public async Task A_build_for_an_idle_volume_writes_demand_waits_and_runs_there_once_it_is_ready()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ThreeVolumes,
            pool: p => p.Scaling.StartTimeout = "1m",
            phases: new Dictionary<string, CacheVolumePhase> { ["pool-2"] = CacheVolumePhase.Idle });
        var project = h.ProjectHomedOn("pool-2");
        Assert.True(h.Gateway.Placement.Place(project).NeedsStart);

        var build = h.Client.BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false });
        var demand = await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Start, "pool-2"), d => d is not null, "the gateway to write buildpool.dev/demand on pool-2");

        Assert.InRange(DateTime.UtcNow - demand!.At, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        Assert.False(build.IsCompleted, "the build waits for its builder");
        Assert.All(h.Fleet.Builders, b => Assert.DoesNotContain(b.Builds.Calls, c => c.Method == "Solve"));

        await h.SetPhaseAsync("pool-2", CacheVolumePhase.Ready);
        var result = await build.Within(20);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(["pool-2"], h.Fleet.BuildersOf(result.Ref));
    }

    [Fact]
    public async Task A_bootstrap_call_to_a_pool_whose_builders_are_all_stopped_wakes_one_and_is_answered()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ThreeVolumes,
            pool: p => p.Scaling.StartTimeout = "1m",
            phases: new Dictionary<string, CacheVolumePhase> { ["pool-0"] = CacheVolumePhase.Idle, ["pool-1"] = CacheVolumePhase.Idle, ["pool-2"] = CacheVolumePhase.Idle });
        var woken = h.Gateway.Placement.Place("buildpool.dev/bootstrap").Backend!.Id;

        var info = h.Client.InfoAsync();
        await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Start, woken), d => d is not null, "demand on one stopped builder");
        Assert.False(info.IsCompleted, "the call waits for the builder");

        await h.SetPhaseAsync(woken, CacheVolumePhase.Ready);
        var call = await info.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(call.Succeeded, call.ToString());
        Assert.Equal(woken, call.Builder);
    }

    [Fact]
    public async Task Builds_waiting_for_one_idle_volume_write_demand_once()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ThreeVolumes,
            pool: p => p.Scaling.StartTimeout = "1m",
            phases: new Dictionary<string, CacheVolumePhase> { ["pool-0"] = CacheVolumePhase.Idle });
        var project = h.ProjectHomedOn("pool-0");
        var rv = h.Server.ResourceVersion;

        var builds = Enumerable.Range(0, 3).Select(_ => h.Client.BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false })).ToList();
        await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Start, "pool-0"), d => d is not null, "demand on pool-0");
        await Eventually.TrueAsync(() => h.Gateway.Builds.TrackedBuilds >= 3, "all three builds to wait");
        var written = h.Server.ResourceVersion - rv;
        await h.SetPhaseAsync("pool-0", CacheVolumePhase.Ready);
        var results = await Task.WhenAll(builds).Within(20);

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        // Released together, bounded loads may (correctly) spread them; the first gets the warm cache.
        Assert.Contains(results, r => r.Builder == "pool-0");
        Assert.Equal(1, written);
    }

    [Fact]
    public async Task A_build_spills_to_the_next_volume_when_its_idle_volume_does_not_start_within_the_start_timeout()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ThreeVolumes,
            pool: p => p.Scaling.StartTimeout = "500ms",
            phases: new Dictionary<string, CacheVolumePhase> { ["pool-1"] = CacheVolumePhase.Idle });
        var project = h.ProjectHomedOn("pool-1");
        var spillTarget = h.Gateway.Placement.Place(project, allowStopped: false).Backend!.Id;

        var clock = Stopwatch.StartNew();
        var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal([spillTarget], h.Fleet.BuildersOf(result.Ref));
        // It waited out the start timeout, then spilled well before the client's 30 s timeout
        // (10 s left a loaded machine too little room for the build itself).
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(25));
        Assert.NotNull(await h.SignalAsync(GatewaySignalKind.Start, "pool-1"));
    }

    [Fact]
    public async Task A_build_waiting_for_its_builder_to_start_shows_it_in_its_status_and_then_goes_on()
    {
        // The hold lasts the whole start timeout: the Status stream checks what its build waits
        // for once a second, so it sees the hold several times over.
        await using var h = await PoolGatewayHarness.StartAsync(
            ThreeVolumes,
            pool: p => p.Scaling.StartTimeout = "5s",
            phases: new Dictionary<string, CacheVolumePhase> { ["pool-1"] = CacheVolumePhase.Idle });
        var project = h.ProjectHomedOn("pool-1");

        var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false });

        Assert.True(result.Succeeded, result.ToString());
        var wait = result.Vertexes[0];
        Assert.Equal("[buildpool] starting builder pool-1", wait.Name);
        Assert.NotNull(wait.Completed);
        Assert.Equal(result.Builder, Assert.Single(h.Fleet.BuildersOf(result.Ref)));
    }

    [Fact]
    public async Task Keys_pinned_by_spec_keys_go_to_their_volume_and_hashed_keys_never_do()
    {
        const string Image = "registry.example.test/team/release";
        await using var h = await PoolGatewayHarness.StartAsync(
            [.. ThreeVolumes, "release"],
            volume: (name, spec) => { spec.Keys = name == "release" ? [Image] : null; return spec; });

        var pinned = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "anything", ExporterImage = Image + ":v2", Bootstrap = false });
        var hashed = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => h.Client.BuildAsync(new FakeBuildxOptions { ContextName = $"app-{i}", Bootstrap = false })));

        Assert.True(pinned.Succeeded, pinned.ToString());
        Assert.Equal(["release"], h.Fleet.BuildersOf(pinned.Ref));
        Assert.All(hashed, r => Assert.True(r.Succeeded, r.ToString()));
        Assert.DoesNotContain(hashed, r => r.Builder == "release");
    }

    [Fact]
    public async Task A_build_writes_last_used_on_its_volume()
    {
        await using var h = await PoolGatewayHarness.StartAsync(ThreeVolumes);
        var project = h.ProjectHomedOn("pool-0");

        var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false });
        var lastUsed = await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Used, "pool-0"), v => v is not null, "last-used on pool-0");

        Assert.True(result.Succeeded, result.ToString());
        Assert.InRange(DateTime.UtcNow - lastUsed!.At, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        Assert.Null(await h.SignalAsync(GatewaySignalKind.Used, "pool-1"));
        Assert.Null(await h.SignalAsync(GatewaySignalKind.Start, "pool-0"));
    }

    [Fact]
    public async Task A_pool_whose_builders_are_all_idle_stays_ready_so_builds_can_ask_for_one()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ["pool-0", "pool-1"],
            phases: new Dictionary<string, CacheVolumePhase> { ["pool-0"] = CacheVolumePhase.Idle, ["pool-1"] = CacheVolumePhase.Idle });

        Assert.True(h.Discovery.IsReady(h.Gateway));
        Assert.False(h.Gateway.IsReady);

        await h.SetPhaseAsync("pool-0", CacheVolumePhase.Failed);
        await h.SetPhaseAsync("pool-1", CacheVolumePhase.Failed);

        Assert.False(h.Discovery.IsReady(h.Gateway));
    }

    [Fact]
    public async Task Locked_sharing_of_the_pool_or_the_volume_gives_one_slot_and_the_rest_get_max_concurrent_builds()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ThreeVolumes,
            pool: p => p.Builder.MaxConcurrentBuilds = 3,
            volume: (name, spec) => { spec.Sharing = name == "pool-2" ? CacheSharing.Locked : null; return spec; });

        Assert.Equal(3, h.Gateway.Admission.GetCounts("pool-0").Capacity);
        Assert.Equal(1, h.Gateway.Admission.GetCounts("pool-2").Capacity);
    }

    [Fact]
    public async Task A_dedicated_key_without_a_volume_asks_the_pool_for_one_and_its_build_runs_on_it_once_ready()
    {
        const string Image = "registry.example.test/team/newcomer";
        await using var h = await PoolGatewayHarness.StartAsync(
            ["pool-k0"],
            pool: p => { p.Assignment.Mode = Api.V1Alpha1.AssignmentMode.Dedicated; p.Scaling.StartTimeout = "1m"; },
            volume: (_, spec) => { spec.Keys = ["someone-else"]; return spec; },
            spareBuilders: ["pool-knew"]);

        var build = h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "ctx", ExporterImage = Image + ":1", Bootstrap = false });
        var asked = await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Demand, Image), v => v is not null, "the pool annotation asking for a volume");
        Assert.Equal(Image, asked!.Detail);
        Assert.False(build.IsCompleted);

        // The operator's part: a volume for the key, first starting, then ready.
        await h.CreateVolumeAsync("pool-knew", CacheVolumePhase.Starting, s => { s.Keys = [Image]; return s; });
        await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Start, "pool-knew"), d => d is not null, "demand on the new volume while it starts");
        await h.SetPhaseAsync("pool-knew", CacheVolumePhase.Ready);
        var result = await build.Within(20);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(["pool-knew"], h.Fleet.BuildersOf(result.Ref));
    }

    [Fact]
    public async Task A_dedicated_key_whose_volume_never_comes_fails_after_the_start_timeout_saying_the_pool_is_creating_it()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ["pool-k0"],
            pool: p => { p.Assignment.Mode = Api.V1Alpha1.AssignmentMode.Dedicated; p.Scaling.StartTimeout = "300ms"; },
            volume: (_, spec) => { spec.Keys = ["someone-else"]; return spec; });

        var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "lonely", Bootstrap = false });

        Assert.Equal(StatusCode.Unavailable, result.Status);
        Assert.Contains("creating a cache volume for key lonely", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Fleet["pool-k0"].Builds.Calls, c => c.Method == "Solve");
    }

    [Fact]
    public async Task A_dedicated_keys_demand_stays_while_one_of_its_builds_waits_and_is_withdrawn_when_the_last_goes_away()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ["pool-k0"],
            pool: p => { p.Assignment.Mode = Api.V1Alpha1.AssignmentMode.Dedicated; p.Scaling.StartTimeout = "10m"; },
            volume: (_, spec) => { spec.Keys = ["someone-else"]; return spec; });
        using var firstClient = new CancellationTokenSource();
        using var secondClient = new CancellationTokenSource();

        var first = h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "wanted", Bootstrap = false, Timeout = TimeSpan.FromMinutes(5) }, firstClient.Token);
        var second = h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "wanted", Bootstrap = false, Timeout = TimeSpan.FromMinutes(5) }, secondClient.Token);
        await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Demand, "wanted"), d => d is not null, "the demand for the key");
        await Eventually.TrueAsync(() => h.Gateway.Builds.TrackedBuilds >= 2, "both builds to wait");
        var patches = h.Server.Stats.Count("patch", "leases");

        await firstClient.CancelAsync();
        await Task.WhenAny(first).Within(20);
        await global::BuildPool.TestDoubles.Eventually.NeverAsync(() => h.Server.Stats.Count("patch", "leases") > patches, "a withdrawal while a build still waits", TimeSpan.FromSeconds(1));
        Assert.NotNull(await h.SignalAsync(GatewaySignalKind.Demand, "wanted"));

        // The last build's client goes away long before the start timeout (10m) and the demand TTL (5m).
        await secondClient.CancelAsync();
        await Task.WhenAny(second).Within(20);
        await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => h.SignalAsync(GatewaySignalKind.Demand, "wanted"), d => d is null, "the demand to be withdrawn", TimeSpan.FromSeconds(10));
        Assert.Equal(patches + 1, h.Server.Stats.Count("patch", "leases"));
    }
}
