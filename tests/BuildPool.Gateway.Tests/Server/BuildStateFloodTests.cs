using System.Net;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Google.Protobuf;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// Every unknown session id or build ref makes the gateway track a build. A client that opens
/// calls and never builds (reset Sessions, Status calls of refs no Solve names), or that opens
/// builds by the hundred on one connection, must not make the gateway remember more than its
/// caps; honest builds on other connections go on meanwhile.
/// </summary>
public sealed class BuildStateFloodTests
{
    private const string Control = "/moby.buildkit.v1.Control/";
    private const string SessionUuid = "x-docker-expose-session-uuid";
    private const string SharedKey = "x-docker-expose-session-sharedkey";

    // The attack is ~20,000 such calls (with long ids, refused now by --max-id-length); a
    // few hundred show in the normal suite whether any of them is kept.
    [Fact]
    public Task Calls_reset_before_any_solve_leave_no_build_behind_while_an_honest_build_completes() => ResetCallsAsync(batches: 8);

    [Fact]
    [Trait("Category", "Chaos")]
    public Task Twenty_thousand_calls_reset_before_any_solve_leave_no_build_behind_while_an_honest_build_completes() => ResetCallsAsync(batches: 400);

    [Fact]
    public async Task One_connection_cannot_open_more_builds_than_its_cap_and_the_refusal_names_the_limit()
    {
        await using var harness = await GatewayHarness.StartAsync(
            builders: 2,
            configure: o => o with { Correlation = o.Correlation with { MaxBuildsPerConnection = 8 } });
        var endPoint = new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port);
        await using var attacker = await Http2ClientConnection.ConnectAsync(
            await Http2Connector.ConnectAsync(endPoint, tls: null, CancellationToken.None), peerName: "gateway");

        // Sessions that wait for a Solve that never comes: each is a build the gateway tracks.
        var open = new List<Http2ClientStream>();
        for (var i = 0; i < 8; i++)
        {
            open.Add(await attacker.StartStreamAsync(GrpcWire.Request("gateway", Control + "Session", (SessionUuid, $"held{i}"), (SharedKey, $"proj{i}:00")), endStream: false));
        }

        await Eventually.TrueAsync(() => harness.Gateway.Builds.TrackedBuilds == 8, "the eight sessions to be tracked");
        var refused = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            await using var stream = await attacker.StartStreamAsync(GrpcWire.Request("gateway", Control + "Session", (SessionUuid, $"over{i}"), (SharedKey, $"over{i}:00")), endStream: false);
            return await GrpcWire.ReadStatusAsync(stream);
        })).Within(20);

        Assert.All(refused, r => Assert.Equal("8", r.Status));
        Assert.All(refused, r => Assert.Equal("this connection already has 8 builds, the gateway's limit (--max-builds-per-connection)", r.Message));
        var honest = await harness.Client.BuildAsync(GatewayHarness.Project("honest")).Within(30);
        Assert.True(honest.Succeeded, honest.ToString());

        foreach (var stream in open)
        {
            stream.Reset();
            await stream.DisposeAsync();
        }

        await Eventually.TrueAsync(() => harness.Gateway.Builds.TrackedBuilds <= 1, "the attacker's sessions to be forgotten");
    }

    private static async Task ResetCallsAsync(int batches)
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 2);
        await using var attacker = new Http2ClientPool(new Http2ClientPoolOptions());
        var endPoint = new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port);
        var honest = harness.Client.BuildAsync(GatewayHarness.Project("honest"));

        for (var batch = 0; batch < batches; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
            {
                var id = $"flood{batch:D3}{i:D3}";
                var path = i % 5 == 0 ? "Status" : "Session";
                var stream = await attacker.StartStreamAsync(endPoint, GrpcWire.Request("gateway", Control + path, (SessionUuid, id), (SharedKey, "proj:" + id)), endStream: false);
                if (path == "Status")
                {
                    await stream.WriteAsync(GrpcWire.Frame(new BuildPool.BuildKit.Protocol.StatusRequest { Ref = id }.ToByteArray()));
                }

                stream.Reset();
                await stream.DisposeAsync();
            })).Within(30);
        }

        var result = await honest.Within(30);
        Assert.True(result.Succeeded, result.ToString());
        // Only the honest build, kept for its grace period so a late call still finds its builder.
        await Eventually.TrueAsync(() => harness.Gateway.Builds.TrackedBuilds <= 1, "the attacker's calls to be forgotten");
    }
}
