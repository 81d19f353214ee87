using BuildPool.TestDoubles;
using Grpc.Core;

namespace BuildPool.Gateway.Tests.TestDoubles;

/// <summary>
/// The fake builders and the fake buildx client against each other, without a gateway: the double
/// must accept what buildx does and fail what a broken proxy would cause, or gateway tests built on
/// it prove nothing.
/// </summary>
public sealed class FakeBuilderFleetTests : IAsyncLifetime
{
    private FakeBuilderFleet _fleet = null!;

    public async Task InitializeAsync() => _fleet = await FakeBuilderFleet.StartAsync(2);

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    private FakeBuildKitDaemon First => _fleet[0];

    private FakeBuildxClient ClientOfFirst => new(First.EndPoint);

    [Fact]
    public async Task A_build_straight_against_one_builder_succeeds_and_every_call_is_recorded_there()
    {
        var result = await ClientOfFirst.BuildAsync(new FakeBuildxOptions { ExporterImage = "registry.example.com/team/app:1.2", ContextName = "app" });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("builder-0", result.Builder);
        Assert.Equal(["builder-0"], result.BuildBuilders);
        Assert.Equal(["builder-0"], _fleet.BuildersOf(result.Ref));
        Assert.Equal("builder-0", _fleet.SolvedBy(result.Ref));
        Assert.Empty(_fleet[1].Builds.Calls);

        var build = _fleet.CallsOf(result.Ref);
        Assert.Equal(["Ping", "Session", "Solve", "Status"], build.Select(c => c.Method).Order(StringComparer.Ordinal));
        Assert.Single(build.Select(c => c.ConnectionId).Distinct());
        var bootstrap = First.Builds.Calls.Where(c => c.Method is "Info" or "ListWorkers").ToList();
        Assert.Equal(3, bootstrap.Count);
        Assert.Equal(3, bootstrap.Select(c => c.ConnectionId).Distinct().Count());

        var session = Assert.Single(First.Builds.Sessions);
        Assert.Equal(result.SessionId, session.Id);
        Assert.Equal(result.SharedKey, session.SharedKey);
        Assert.StartsWith("app:", session.SharedKey, StringComparison.Ordinal);
        Assert.Equal(FakeBuildxOptions.DefaultSessionMethods, session.Methods);
        Assert.False(session.IsActive);
        Assert.Equal(1, result.SessionEchoes);

        var solve = Assert.Single(First.Builds.Solves);
        Assert.Equal(result.SessionId, solve.SessionId);
        Assert.Equal("image", solve.ExporterType);
        Assert.Equal("registry.example.com/team/app:1.2", solve.ExporterImageName);
        Assert.Equal(1, First.Builds.CompletedSolves);
    }

    [Fact]
    public async Task Repeated_grpc_method_fields_reach_the_builder_as_separate_methods()
    {
        var result = await ClientOfFirst.BuildAsync();

        var sessionCall = Assert.Single(First.Builds.Calls, c => c.Method == "Session");
        Assert.Equal(4, sessionCall.HeaderValues(FakeBuilds.SessionMethodHeader).Count);
        Assert.True(result.Succeeded, result.ToString());
    }

    [Fact]
    public async Task A_build_whose_grpc_method_headers_are_joined_into_one_field_fails_with_no_local_sources()
    {
        var result = await ClientOfFirst.BuildAsync(new FakeBuildxOptions { JoinSessionMethodHeaders = true });

        Assert.False(result.Succeeded);
        Assert.Equal(StatusCode.Unknown, result.Status);
        Assert.Contains("no local sources enabled", result.Message, StringComparison.Ordinal);
        var session = Assert.Single(First.Builds.Sessions);
        Assert.Single(session.Methods);
        Assert.False(session.ExposesFileSync);
        // The daemon side of the session goes away too, as the build's failure ends it.
        Assert.Equal(StatusCode.Unknown, result.Call("Session")!.Status);
    }

    [Fact]
    public async Task A_solve_whose_session_never_reached_this_builder_fails_with_no_active_session()
    {
        First.Builds.SessionWaitTimeout = TimeSpan.FromMilliseconds(300);

        var result = await ClientOfFirst.BuildAsync(new FakeBuildxOptions { SendSession = false });

        Assert.False(result.Succeeded);
        Assert.Equal(StatusCode.DeadlineExceeded, result.Status);
        Assert.Contains($"no active session for {result.SessionId}", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, First.Builds.CompletedSolves);
    }

    [Fact]
    public async Task A_session_on_another_builder_does_not_count_for_a_solve_here()
    {
        First.Builds.SessionWaitTimeout = TimeSpan.FromMilliseconds(300);
        // The session half of a build, misrouted to builder-1 and kept open while the Solve goes to builder-0.
        _fleet[1].Builds.HoldSolves = true;
        var options = new FakeBuildxOptions { Bootstrap = false };
        var misrouted = new FakeBuildxClient(_fleet[1].EndPoint).BuildAsync(options);
        await _fleet[1].Builds.WaitForRunningAsync(options.Ref);

        var solveHere = await ClientOfFirst.BuildAsync(new FakeBuildxOptions { Ref = FakeBuildxOptions.NewId(), SessionId = options.SessionId, SendSession = false });
        _fleet[1].Builds.Release(options.Ref);

        Assert.Contains("no active session", solveHere.Message, StringComparison.Ordinal);
        Assert.True((await misrouted).Succeeded);
    }

    [Fact]
    public async Task A_held_solve_shows_as_running_and_completes_when_the_test_releases_it()
    {
        First.Builds.HoldSolves = true;
        var options = new FakeBuildxOptions();

        var build = ClientOfFirst.BuildAsync(options);
        await First.Builds.WaitForRunningAsync(options.Ref);

        Assert.Equal(1, First.Builds.RunningSolves);
        Assert.Equal([options.Ref], First.Builds.RunningRefs);
        // The operator's drain check (ListenBuildHistory active-only) sees the same running build.
        Assert.True(First.Daemon.ActiveBuilds.ContainsKey(options.Ref));
        Assert.False(build.IsCompleted);

        First.Builds.Release(options.Ref);
        var result = await build;

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(0, First.Builds.RunningSolves);
        Assert.Empty(First.Daemon.ActiveBuilds);
        Assert.Equal(1, First.Builds.MaxConcurrentSolves);
    }

    [Fact]
    public async Task Concurrent_held_solves_raise_the_builders_maximum_concurrency()
    {
        First.Builds.HoldSolves = true;
        var builds = Enumerable.Range(0, 3).Select(_ => ClientOfFirst.BuildAsync(new FakeBuildxOptions { Bootstrap = false })).ToList();
        await First.Builds.WaitUntilAsync(b => b.RunningSolves == 3, "three running Solves");

        _fleet.ReleaseAll();
        var results = await Task.WhenAll(builds);

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        Assert.Equal(3, _fleet.MaxConcurrentSolves["builder-0"]);
        Assert.Equal(0, _fleet.MaxConcurrentSolves["builder-1"]);
    }

    [Fact]
    public async Task Status_reports_cached_and_executed_vertexes_and_ends_with_the_solve()
    {
        var result = await ClientOfFirst.BuildAsync();

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(StatusCode.OK, result.Call("Status")!.Status);
        Assert.Equal(4, result.TotalSteps);
        Assert.Equal(2, result.CachedSteps);
        Assert.All(result.Vertexes, v => Assert.NotNull(v.Completed));
        Assert.Equal(First.Builds.Steps.Select(s => s.Name), result.Vertexes.Select(v => v.Name));
    }

    [Fact]
    public async Task The_solve_record_reads_the_legacy_exporter_fields_and_the_cache_refs()
    {
        var result = await ClientOfFirst.BuildAsync(new FakeBuildxOptions
        {
            ExporterImage = "registry.example.com/legacy/app:latest",
            UseLegacyExporterFields = true,
            CacheExports = ["registry.example.com/cache/app:buildcache"],
            CacheImports = ["registry.example.com/cache/app:buildcache", "registry.example.com/cache/app:main"],
        });

        Assert.True(result.Succeeded, result.ToString());
        var solve = Assert.Single(First.Builds.Solves);
        Assert.Equal("image", solve.ExporterType);
        Assert.Equal("registry.example.com/legacy/app:latest", solve.ExporterImageName);
        Assert.Equal(["registry.example.com/cache/app:buildcache"], solve.CacheExportRefs);
        Assert.Equal(["registry.example.com/cache/app:buildcache", "registry.example.com/cache/app:main"], solve.CacheImportRefs);
    }

    [Fact]
    public async Task The_chosen_authority_is_what_the_builder_records()
    {
        var result = await ClientOfFirst.BuildAsync(new FakeBuildxOptions { Authority = "project-a.builds.example.com" });

        Assert.True(result.Succeeded, result.ToString());
        Assert.All(First.Builds.Calls, c => Assert.Equal("project-a.builds.example.com", c.Authority));
    }

    [Fact]
    public async Task Every_response_names_the_builder_that_answered()
    {
        var result = await new FakeBuildxClient(_fleet[1].EndPoint).BuildAsync();

        Assert.True(result.Succeeded, result.ToString());
        Assert.All(result.Calls, c => Assert.Equal("builder-1", c.Builder));
    }

    [Fact]
    public async Task An_llbbridge_call_for_a_build_whose_solve_never_reached_this_builder_fails_with_no_such_job()
    {
        First.Builds.BuildIdWaitTimeout = TimeSpan.FromMilliseconds(200);

        var result = await ClientOfFirst.BuildAsync(new FakeBuildxOptions { SendSolve = false, SendStatus = false, Bootstrap = false });

        Assert.Equal(StatusCode.NotFound, result.Status);
        Assert.Equal($"forwarding Ping: no such job {result.Ref}", result.Message);
        Assert.Equal("Ping", Assert.Single(First.Builds.CallsOf(result.Ref)).Method);
    }

    [Fact]
    public async Task A_status_call_for_a_build_whose_solve_never_reached_this_builder_fails_with_no_such_job()
    {
        First.Builds.StatusWaitTimeout = TimeSpan.FromMilliseconds(200);

        var result = await ClientOfFirst.BuildAsync(new FakeBuildxOptions { SendSolve = false, SendPing = false, SendSession = false, Bootstrap = false });

        Assert.Equal(StatusCode.NotFound, result.Status);
        Assert.Equal($"no such job {result.Ref}", result.Message);
        Assert.Equal("Status", Assert.Single(First.Builds.CallsOf(result.Ref)).Method);
    }

    [Fact]
    public async Task A_builder_removed_from_the_fleet_refuses_new_builds()
    {
        var removed = _fleet[1];
        await _fleet.RemoveAsync("builder-1");

        var result = await new FakeBuildxClient(removed.EndPoint).BuildAsync(new FakeBuildxOptions { Timeout = TimeSpan.FromSeconds(5) });

        Assert.False(result.Succeeded);
        Assert.Equal(StatusCode.Unavailable, result.Status);
        Assert.Single(_fleet.Builders);
    }
}
