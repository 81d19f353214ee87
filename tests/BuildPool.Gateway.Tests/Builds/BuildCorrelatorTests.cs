using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Routing;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Gateway.Tests.Builds;

public sealed class BuildCorrelatorTests : IDisposable
{
    private static readonly CallOrigin Plain = new("gateway.local", null, null);

    private readonly FakeTimeProvider _time = new();
    private readonly Placement _placement = new(new PlacementOptions());
    private readonly AdmissionController _admission;
    private readonly BuildCorrelator _builds;
    private readonly ClientConnection _connection = BuildCorrelator.OpenConnection("c1");

    public BuildCorrelatorTests()
    {
        _placement.Update([new Backend("b0"), new Backend("b1"), new Backend("b2"), new Backend("b3")]);
        _admission = new AdmissionController(new AdmissionOptions(), _time);
        _builds = Correlator("builds.test");
    }

    public void Dispose() => _builds.Dispose();

    private BuildCorrelator Correlator(string? domain) =>
        new(new KeyExtractor(KeyExtractor.DefaultSources, domain), _placement, _admission, new BuildCorrelatorOptions(), _time);

    private static SolveRequestFields Solve(string reference, string session, string? image = null) => new(reference, session, image, null);

    private string Home(string key) => _placement.Place(key).Backend!.Id;

    [Fact]
    public async Task A_status_and_a_session_wait_for_the_solve_and_then_go_where_it_goes()
    {
        var home = Home("app");
        using var status = _builds.JoinRef("r1", BuildCallKind.Status, _connection, Plain);
        using var session = _builds.JoinSession("s1", "app:0123456789abcdef", _connection, Plain);
        Assert.False(status.IsRouted);
        // The session's key ranks below the image name the Solve may carry: it waits too.
        Assert.False(session.IsRouted);

        using var solve = _builds.JoinSolve(Solve("r1", "s1"), _connection, Plain, CancellationToken.None);

        var routes = await Task.WhenAll(status.WaitForRouteAsync(default), session.WaitForRouteAsync(default), solve.WaitForRouteAsync(default));
        Assert.All(routes, r => Assert.Equal(home, r.Backend!.Id));
        Assert.All(routes, r => Assert.Equal(new RoutingKey("app", RoutingKeySource.SessionDirectory), r.Key));
    }

    [Fact]
    public async Task A_solve_whose_session_arrived_without_a_key_decides_at_once()
    {
        using var session = _builds.JoinSession("s1", sharedKey: null, _connection, Plain);
        using var solve = _builds.JoinSolve(Solve("r1", "s1"), _connection, Plain, CancellationToken.None);

        Assert.True(solve.IsRouted);
        Assert.True(session.IsRouted);
        var route = await solve.WaitForRouteAsync(default);
        Assert.Null(route.Key);
        Assert.Equal(PlacementOutcome.Any, route.Outcome);
    }

    [Fact]
    public async Task A_solve_that_overtook_its_session_waits_for_the_session_key()
    {
        var home = Home("billing");
        using var solve = _builds.JoinSolve(Solve("r1", "s1"), _connection, Plain, CancellationToken.None);
        Assert.False(solve.IsRouted);

        using var session = _builds.JoinSession("s1", "billing:00aa", _connection, Plain);

        Assert.Equal(home, (await solve.WaitForRouteAsync(default)).Backend!.Id);
        Assert.Equal(home, (await session.WaitForRouteAsync(default)).Backend!.Id);
    }

    [Fact]
    public async Task A_solve_with_an_image_name_decides_without_waiting_for_its_session()
    {
        var home = Home("example.test/shop");
        using var solve = _builds.JoinSolve(Solve("r1", "s1", image: "example.test/shop"), _connection, Plain, CancellationToken.None);
        Assert.True(solve.IsRouted);

        using var session = _builds.JoinSession("s1", "elsewhere:00aa", _connection, Plain);

        Assert.Equal(home, (await session.WaitForRouteAsync(default)).Backend!.Id);
    }

    [Fact]
    public async Task An_authority_key_decides_at_the_first_call()
    {
        using var status = _builds.JoinRef("r1", BuildCallKind.Status, _connection, new CallOrigin("shop.builds.test:1234", null, null));

        Assert.True(status.IsRouted);
        Assert.Equal(new RoutingKey("shop", RoutingKeySource.Authority), (await status.WaitForRouteAsync(default)).Key);
    }

    [Fact]
    public async Task Calls_whose_deciding_call_never_comes_are_routed_after_the_decision_wait()
    {
        using var status = _builds.JoinRef("r1", BuildCallKind.Status, _connection, Plain);
        var route = status.WaitForRouteAsync(default);

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(route.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(PlacementOutcome.Any, (await route).Outcome);
    }

    [Fact]
    public async Task A_keyless_build_follows_the_connections_last_keyed_build()
    {
        var project = Enumerable.Range(0, 100).Select(i => $"p{i}").First(k => Home(k) != "b0");
        var home = Home(project);
        using (var keyed = _builds.JoinSolve(Solve("r1", string.Empty, image: project), _connection, Plain, CancellationToken.None))
        {
            await keyed.AdmitAsync();
        }

        using var keyless = _builds.JoinSolve(Solve("r2", string.Empty), _connection, Plain, CancellationToken.None);
        using var elsewhere = _builds.JoinSolve(Solve("r3", string.Empty), BuildCorrelator.OpenConnection("c2"), Plain, CancellationToken.None);

        var route = await keyless.WaitForRouteAsync(default);
        Assert.True(route.FollowedConnection);
        Assert.Equal(home, route.Backend!.Id);
        Assert.Equal("b0", (await elsewhere.WaitForRouteAsync(default)).Backend!.Id);
    }

    [Fact]
    public async Task A_solve_holds_its_slot_and_load_until_it_completes()
    {
        using var solve = _builds.JoinSolve(Solve("r1", string.Empty, image: "img"), _connection, Plain, CancellationToken.None);
        var lease = await solve.AdmitAsync();
        Assert.Equal((1, 1L), (_placement.LoadOn(lease.BackendId), _admission.TotalRunning));

        solve.Completed(0);

        Assert.Equal((0, 0L), (_placement.LoadOn(lease.BackendId), _admission.TotalRunning));
    }

    [Fact]
    public async Task Ended_builds_are_forgotten_after_the_grace_period()
    {
        var session = _builds.JoinSession("s1", "app:00", _connection, Plain);
        var solve = _builds.JoinSolve(Solve("r1", "s1"), _connection, Plain, CancellationToken.None);
        await solve.AdmitAsync();
        solve.Completed(0);
        solve.Dispose();
        session.Dispose();
        Assert.Equal(1, _builds.TrackedBuilds);
        Assert.Equal("r1", Assert.Single(_builds.RecentBuilds).Ref);

        _time.Advance(TimeSpan.FromMinutes(1.5));

        Assert.Equal(0, _builds.TrackedBuilds);
    }

    [Fact]
    public async Task Builds_of_a_closed_connection_are_forgotten_after_the_grace_period_and_calls_without_a_solve_at_once()
    {
        var other = BuildCorrelator.OpenConnection("c2");
        _builds.JoinRef("gone", BuildCallKind.Status, other, Plain).Dispose();
        Assert.Equal(0, _builds.TrackedBuilds);

        var session = _builds.JoinSession("s1", "app:00", _connection, Plain);
        var solve = _builds.JoinSolve(Solve("r1", "s1"), _connection, Plain, CancellationToken.None);
        (await solve.AdmitAsync()).Dispose();
        _builds.CloseConnection(_connection);
        solve.Completed(1);
        solve.Dispose();
        session.Dispose();
        Assert.Equal(1, _builds.TrackedBuilds);

        _time.Advance(TimeSpan.FromMinutes(1.5));
        Assert.Equal(0, _builds.TrackedBuilds);
    }

    [Fact]
    public void A_session_reset_before_its_solve_is_forgotten_when_its_last_call_ends()
    {
        var session = _builds.JoinSession("s1", "app:00", _connection, Plain);
        var status = _builds.JoinRef("r1", BuildCallKind.Status, _connection, Plain);
        Assert.Equal(2, _builds.TrackedBuilds);
        session.Dispose();
        Assert.Equal(1, _builds.TrackedBuilds);

        status.Dispose();

        Assert.Equal(0, _builds.TrackedBuilds);
        Assert.Empty(_builds.RecentBuilds);
    }

    [Fact]
    public void A_tenant_cannot_open_more_builds_than_its_cap_over_all_its_connections()
    {
        using var builds = new BuildCorrelator(
            new KeyExtractor(KeyExtractor.DefaultSources, null), _placement, _admission, new BuildCorrelatorOptions { MaxBuildsPerTenant = 3 }, _time);
        var teamA = Plain with { ClientIdentity = "team-a" };
        var calls = Enumerable.Range(0, 3).Select(i => builds.JoinSession($"s{i}", null, BuildCorrelator.OpenConnection($"c{i}"), teamA)).ToList();

        var refused = Assert.Throws<BuildLimitException>(() => builds.JoinSession("s3", null, BuildCorrelator.OpenConnection("c3"), teamA));

        Assert.Equal("tenant team-a already has 3 builds, the gateway's limit (--max-builds-per-tenant)", refused.Message);
        // Another tenant, and the calls of builds the tenant has, still get in.
        builds.JoinSession("s9", null, BuildCorrelator.OpenConnection("c9"), Plain with { ClientIdentity = "team-b" }).Dispose();
        builds.JoinSession("s0", null, BuildCorrelator.OpenConnection("c0"), teamA).Dispose();
        calls[0].Dispose();
        builds.JoinSession("s3", null, BuildCorrelator.OpenConnection("c3"), teamA).Dispose();
        calls.ForEach(c => c.Dispose());
        Assert.Equal(0, builds.TrackedBuilds);
    }

    [Fact]
    public async Task At_the_gateway_wide_cap_an_ended_build_makes_room_and_running_ones_refuse_the_next()
    {
        using var builds = new BuildCorrelator(
            new KeyExtractor(KeyExtractor.DefaultSources, null), _placement, _admission, new BuildCorrelatorOptions { MaxBuilds = 2 }, _time);
        var solve = builds.JoinSolve(Solve("r1", string.Empty), _connection, Plain, CancellationToken.None);
        (await solve.AdmitAsync()).Dispose();
        solve.Completed(0);
        solve.Dispose();
        using var running = builds.JoinSession("s2", null, _connection, Plain);
        Assert.Equal(2, builds.TrackedBuilds);

        using var next = builds.JoinSession("s3", null, _connection, Plain);
        var refused = Assert.Throws<BuildLimitException>(() => builds.JoinSession("s4", null, _connection, Plain));

        Assert.Equal("the gateway already tracks 2 builds, its limit (--max-tracked-builds)", refused.Message);
    }

    [Fact]
    public async Task Thousands_of_builds_leave_nothing_behind()
    {
        for (var i = 0; i < 5000; i++)
        {
            var connection = BuildCorrelator.OpenConnection($"c{i}");
            var status = _builds.JoinRef($"r{i}", BuildCallKind.Status, connection, Plain);
            var session = _builds.JoinSession($"s{i}", $"p{i % 50}:00", connection, Plain);
            var solve = _builds.JoinSolve(Solve($"r{i}", $"s{i}"), connection, Plain, CancellationToken.None);
            (await solve.AdmitAsync()).Dispose();
            solve.Completed(0);
            solve.Dispose();
            status.Dispose();
            session.Dispose();
            _builds.CloseConnection(connection);
        }

        Assert.Equal(0, _placement.TotalLoad);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, _builds.TrackedBuilds);
    }
}
