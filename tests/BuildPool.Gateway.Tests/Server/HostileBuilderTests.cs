using System.Diagnostics;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.Http2;
using BuildPool.TestDoubles;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// Issue 19 item 5 through the whole gateway: a builder that freezes, floods or stops reading
/// fails the builds it holds with UNAVAILABLE and a message naming the limit, and builds on the
/// other builders go on as if nothing happened.
/// </summary>
public sealed class HostileBuilderTests
{
    private const string Hostile = "hostile";

    [Fact]
    public async Task A_frozen_builder_fails_its_build_with_UNAVAILABLE_within_a_minute_and_a_build_on_another_builder_finishes()
    {
        // Only the upstream connections run on the fake clock: the default keep-alive settings, fast.
        var time = new FakeTimeProvider();
        await using var builds = await TwoRunningBuildsAsync(new Http2ClientPoolOptions { Connection = new Http2ClientConnectionOptions { TimeProvider = time } });

        builds.Relay.Freeze();
        var frozenAt = time.GetUtcNow();
        await Eventually.AdvanceUntilAsync(time, TimeSpan.FromMilliseconds(500), () => builds.Frozen.IsCompleted, "the frozen builder's build fails", TimeSpan.FromSeconds(30));

        Assert.InRange(time.GetUtcNow() - frozenAt, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        await builds.AssertOnlyTheFrozenBuildFailedAsync();
        await Eventually.TrueAsync(() => builds.Harness.Gateway.Admission.TotalRunning == 0 && builds.Harness.Gateway.Placement.TotalLoad == 0, "no slot or load is left behind");
    }

    [Fact]
    public async Task A_frozen_builder_is_found_out_on_the_real_clock_with_short_keepalive_settings()
    {
        await using var builds = await TwoRunningBuildsAsync(ShortKeepAlive());

        // Keep-alive PINGs on a connection whose streams are silent are answered, so nothing fails until the freeze.
        await Eventually.NeverAsync(() => builds.Frozen.IsCompleted, "the build fails while its builder still answers", TimeSpan.FromSeconds(1));
        builds.Relay.Freeze();
        var clock = Stopwatch.StartNew();
        await builds.Frozen.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        await builds.AssertOnlyTheFrozenBuildFailedAsync();
    }

    [Theory]
    [InlineData("PING")]
    [InlineData("SETTINGS")]
    public async Task A_control_frame_flood_from_a_builder_fails_only_its_builds_with_UNAVAILABLE_naming_the_flood(string flood)
    {
        var frame = flood == "PING" ? HostileFrames.PingFrame(7) : HostileFrames.ServerSettings();
        await using var hostile = HostileBuilder.Start(Hostile, _ => new HostileAnswer { Writes = [HostileFrames.Flood(frame, 20_000)], Kind = flood + " flood" });
        await using var harness = await WithHostileAsync(hostile);
        harness.Fleet.Configure(b => b.HoldSolves = true);
        var honest = harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn("builder-0")));
        await Eventually.TrueAsync(() => harness.Fleet[0].Builds.RunningSolves == 1, "the honest build runs");

        var attacked = await harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn(Hostile))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(StatusCode.Unavailable, attacked.Status);
        Assert.Contains($"{flood} flood", attacked.Message, StringComparison.Ordinal);
        Assert.Contains("--upstream-max-control-frames", attacked.Message, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => hostile.Outcomes.ContainsKey($"gateway GOAWAY {Http2ErrorCode.EnhanceYourCalm}"), "the gateway told the builder to calm down");
        Assert.False(honest.IsCompleted, "the honest build was cut");
        harness.Fleet.ReleaseAll();
        Assert.True((await honest.WaitAsync(TimeSpan.FromSeconds(30))).Succeeded);
    }

    [Fact]
    public async Task A_builder_that_stops_reading_fails_its_build_through_keepalive_and_others_go_on()
    {
        await using var hostile = HostileBuilder.Start(Hostile, _ => new HostileAnswer { StopReading = true, Kind = "never reads" });
        await using var harness = await WithHostileAsync(hostile, ShortKeepAlive());

        var attacked = await harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn(Hostile))).WaitAsync(TimeSpan.FromSeconds(30));
        var honest = await harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn("builder-0"))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(StatusCode.Unavailable, attacked.Status);
        Assert.Contains("keep-alive PING", attacked.Message, StringComparison.Ordinal);
        Assert.True(honest.Succeeded, honest.ToString());
    }

    [Fact]
    public async Task A_builder_that_drips_a_frame_one_octet_at_a_time_fails_its_build_through_keepalive()
    {
        // Only the first request drips (drips on several streams would interleave into garbage); the rest get silence.
        await using var hostile = HostileBuilder.Start(Hostile, r =>
        {
            var frame = HostileFrames.HeadersFrame(r.StreamId, false, (":status", "200"), ("content-type", "application/grpc"));
            return r.Index == 0
                ? new HostileAnswer { Writes = frame.Select(b => new[] { b }).ToList(), Gap = TimeSpan.FromMilliseconds(200), Kind = "drip" }
                : new HostileAnswer { Kind = "silence" };
        });
        await using var harness = await WithHostileAsync(hostile, ShortKeepAlive());

        var attacked = await harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn(Hostile))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(StatusCode.Unavailable, attacked.Status);
        Assert.Contains("keep-alive PING", attacked.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_HPACK_bomb_fails_only_the_stream_it_answers_and_the_gateway_keeps_building()
    {
        await using var hostile = HostileBuilder.Start(Hostile, r => new HostileAnswer { Writes = [HostileFrames.HpackBomb(r.StreamId)], Kind = "HPACK bomb" });
        await using var harness = await WithHostileAsync(hostile);

        var attacked = await harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn(Hostile))).WaitAsync(TimeSpan.FromSeconds(30));
        var honest = await harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn("builder-0"))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(attacked.Succeeded);
        Assert.True(honest.Succeeded, honest.ToString());
        Assert.Equal(0, harness.Gateway.Placement.TotalLoad);
    }

    /// <summary>
    /// Two fake builders, the first behind a relay that can freeze, and a held build running on
    /// each: <see cref="RunningBuilds.Frozen"/> on the relayed one, <see cref="RunningBuilds.Other"/> on the other.
    /// </summary>
    private static async Task<RunningBuilds> TwoRunningBuildsAsync(Http2ClientPoolOptions upstream)
    {
        HostileBuilder? relay = null;
        var harness = await GatewayHarness.StartAsync(
            builders: 2,
            configure: o => o with { Upstream = upstream },
            backend: b => b.Name == "builder-0" ? b with { EndPoint = (relay = HostileBuilder.Relay("frozen", b.EndPoint)).EndPoint } : b);
        var builds = new RunningBuilds(harness, relay!);
        try
        {
            harness.Fleet.Configure(b => b.HoldSolves = true);
            builds.Frozen = harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn("builder-0")));
            builds.Other = harness.Client.BuildAsync(GatewayHarness.Project(harness.ProjectOn("builder-1")));
            await Eventually.TrueAsync(() => harness.Fleet[0].Builds.RunningSolves == 1 && harness.Fleet[1].Builds.RunningSolves == 1, "both builds run");
            return builds;
        }
        catch
        {
            await builds.DisposeAsync();
            throw;
        }
    }

    internal static Http2ClientPoolOptions ShortKeepAlive(int maxConnectionsPerBackend = 4) => new()
    {
        MaxConnectionsPerBackend = maxConnectionsPerBackend,
        Connection = new Http2ClientConnectionOptions
        {
            KeepAlivePingInterval = TimeSpan.FromMilliseconds(200),
            KeepAlivePingTimeout = TimeSpan.FromMilliseconds(500),
        },
    };

    /// <summary>One honest fake builder and <paramref name="hostile"/> behind the gateway.</summary>
    internal static Task<GatewayHarness> WithHostileAsync(HostileBuilder hostile, Http2ClientPoolOptions? upstream = null) =>
        GatewayHarness.StartAsync(
            builders: 1,
            configure: o => o with
            {
                Backends = [.. o.Backends, new StaticBackend(hostile.Name, hostile.EndPoint)],
                Upstream = upstream ?? o.Upstream,
            });

    private sealed class RunningBuilds(GatewayHarness harness, HostileBuilder relay) : IAsyncDisposable
    {
        public GatewayHarness Harness { get; } = harness;

        public HostileBuilder Relay { get; } = relay;

        public Task<FakeBuildxResult> Frozen { get; set; } = Task.FromResult<FakeBuildxResult>(null!);

        public Task<FakeBuildxResult> Other { get; set; } = Task.FromResult<FakeBuildxResult>(null!);

        /// <summary>The frozen builder's build failed with UNAVAILABLE naming keep-alive; the other one still runs and then succeeds.</summary>
        public async Task AssertOnlyTheFrozenBuildFailedAsync()
        {
            var failed = await Frozen;
            Assert.Equal(StatusCode.Unavailable, failed.Status);
            Assert.Contains("keep-alive PING", failed.Message, StringComparison.Ordinal);

            // buildx reports the Status stream's end first: mid-stream too it must say UNAVAILABLE, not a reset.
            var status = failed.Call("Status");
            Assert.NotNull(status);
            Assert.Equal(StatusCode.Unavailable, status.Status);
            Assert.Contains("keep-alive PING", status.Message, StringComparison.Ordinal);
            Assert.False(Other.IsCompleted, "the build on the other builder was cut");
            Harness.Fleet[1].Builds.ReleaseAll();
            var other = await Other.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(other.Succeeded, other.ToString());
        }

        // The relay goes first: a gateway connection to a frozen relay could otherwise wait for it.
        public async ValueTask DisposeAsync()
        {
            await Relay.DisposeAsync();
            await Harness.DisposeAsync();
        }
    }
}
