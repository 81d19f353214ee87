using System.Net;
using BuildPool.BuildKit.Protocol;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Google.Protobuf;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// Session ids, build refs and shared keys come from the client and the gateway keeps them for
/// as long as it tracks the build. A client that sends them huge (16 KiB headers, refs up to the
/// 4 MiB a request may hold) must be refused before the gateway keeps anything, with a message
/// naming the field and the flag that limits it; honest builds meanwhile go on.
/// </summary>
public sealed class OversizedBuildInputTests
{
    private const string Control = "/moby.buildkit.v1.Control/";
    private const string SessionUuid = "x-docker-expose-session-uuid";
    private const string SharedKey = "x-docker-expose-session-sharedkey";

    public static TheoryData<string, string, string> Fields => new()
    {
        { "a Session with a long session id", "session id", "--max-id-length" },
        { "a Session with a long shared key", "shared key", "--max-shared-key-length" },
        { "a Solve with a long build ref", "build ref", "--max-id-length" },
        { "a Solve naming a long session id", "session id", "--max-id-length" },
        { "a Solve with a long image name", "image name", "--max-routing-key-length" },
        { "a Status with a long build ref", "build ref", "--max-id-length" },
        { "a Status request too large for any build ref", "request message is 9003 bytes", "--max-id-length" },
        { "an LLBBridge call with a long build id", "build id", "--max-id-length" },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_call_with_an_over_long_field_is_refused_with_invalid_argument_naming_the_field_and_its_flag(string call, string field, string flag)
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 1);
        await using var client = new Http2ClientPool(new Http2ClientPoolOptions());
        // A Status is refused on its length prefix once it could not hold a ref of the limit.
        var tooLong = new string('x', call.Contains("too large", StringComparison.Ordinal) ? 9000 : 1000);

        var (status, message) = await SendAsync(client, harness, call, tooLong).Within(30);

        Assert.Equal("3", status);
        Assert.Contains(field.StartsWith("request", StringComparison.Ordinal) ? field : $"{field} is 1000 bytes, over the gateway's limit of", message, StringComparison.Ordinal);
        Assert.Contains($"({flag})", message, StringComparison.Ordinal);
        Assert.Equal(0, harness.Gateway.Builds.TrackedBuilds);
        Assert.DoesNotContain(harness.Fleet[0].Builds.Calls, c => c.Method is "Solve" or "Status" or "Session" or "Ping");
    }

    [Fact]
    public async Task Status_calls_with_megabyte_refs_are_refused_and_leave_no_build_state_while_an_honest_build_completes()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 2);
        await using var attacker = new Http2ClientPool(new Http2ClientPoolOptions());
        var endPoint = new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port);

        // The attack of the issue is ~150 calls with 4 MiB refs (over 1 GiB kept); a slice of it
        // shows the same: every call is refused, none is kept.
        var attack = Enumerable.Range(0, 24).Select(async i =>
        {
            var reference = new string((char)('a' + (i % 26)), 1024 * 1024);
            await using var stream = await attacker.StartStreamAsync(endPoint, GrpcWire.Request("gateway", Control + "Status"), endStream: false);
            await stream.WriteAsync(GrpcWire.Frame(new StatusRequest { Ref = reference }.ToByteArray()));
            await stream.CompleteRequestAsync();
            return await GrpcWire.ReadStatusAsync(stream);
        }).ToList();
        var honest = harness.Client.BuildAsync(GatewayHarness.Project("honest"));

        var answers = await Task.WhenAll(attack).Within(60);
        Assert.All(answers, a => Assert.Equal("3", a.Status));
        // Refused on the length prefix: the gateway never reads (or holds) the megabyte.
        Assert.All(answers, a => Assert.StartsWith("Status refused: its request message is 1048580 bytes", a.Message, StringComparison.Ordinal));
        Assert.All(answers, a => Assert.EndsWith("at most 256 bytes (--max-id-length)", a.Message, StringComparison.Ordinal));
        var result = await honest.Within(30);
        Assert.True(result.Succeeded, result.ToString());
        await Eventually.TrueAsync(() => harness.Gateway.Builds.TrackedBuilds <= 1, "only the honest build to be tracked");
    }

    [Fact]
    public async Task Reset_session_calls_with_long_ids_are_refused_and_leave_no_build_state_while_an_honest_build_completes()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 2);
        await using var attacker = new Http2ClientPool(new Http2ClientPoolOptions());
        var endPoint = new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port);
        var honest = harness.Client.BuildAsync(GatewayHarness.Project("honest"));

        // Each call opens, sends its 8 KiB session id and is reset at once, as a client that
        // wants the gateway to remember ids without ever building would.
        for (var batch = 0; batch < 10; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
            {
                var id = $"{batch:D2}{i:D3}" + new string('s', 8 * 1024);
                var stream = await attacker.StartStreamAsync(endPoint, GrpcWire.Request("gateway", Control + "Session", (SessionUuid, id)), endStream: false);
                stream.Reset();
                await stream.DisposeAsync();
            })).Within(30);
        }

        // One more, read to its end: the refusal names the limit.
        await using (var last = await attacker.StartStreamAsync(endPoint, GrpcWire.Request("gateway", Control + "Session", (SessionUuid, new string('s', 8 * 1024))), endStream: false))
        {
            var (status, message) = await GrpcWire.ReadStatusAsync(last).Within(30);
            Assert.Equal("3", status);
            Assert.Equal("session id is 8192 bytes, over the gateway's limit of 256 (--max-id-length)", message);
        }

        var result = await honest.Within(30);
        Assert.True(result.Succeeded, result.ToString());
        await Eventually.TrueAsync(() => harness.Gateway.Builds.TrackedBuilds <= 1, "only the honest build to be tracked");
    }

    private static async Task<(string? Status, string Message)> SendAsync(Http2ClientPool client, GatewayHarness harness, string call, string tooLong)
    {
        var shortId = Guid.NewGuid().ToString("N")[..25];
        (string Path, (string, string)[] Headers, IMessage? Body) request = call switch
        {
            "a Session with a long session id" => ("Session", [(SessionUuid, tooLong)], null),
            "a Session with a long shared key" => ("Session", [(SessionUuid, shortId), (SharedKey, tooLong)], null),
            "a Solve with a long build ref" => ("Solve", [], new SolveRequest { Ref = tooLong, Session = shortId }),
            "a Solve naming a long session id" => ("Solve", [], new SolveRequest { Ref = shortId, Session = tooLong }),
            "a Solve with a long image name" => ("Solve", [], new SolveRequest { Ref = shortId, Session = shortId, Exporters = { new Exporter { Type = "image", Attrs = { ["name"] = tooLong } } } }),
            "a Status with a long build ref" or "a Status request too large for any build ref" => ("Status", [], new StatusRequest { Ref = tooLong }),
            "an LLBBridge call with a long build id" => ("Ping", [("buildkit-controlapi-buildid", tooLong)], null),
            _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
        };
        var (path, headers, body) = request;
        var fullPath = path == "Ping" ? "/moby.buildkit.v1.frontend.LLBBridge/Ping" : Control + path;
        var endPoint = new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port);
        await using var stream = await client.StartStreamAsync(endPoint, GrpcWire.Request("gateway", fullPath, headers), endStream: false);
        if (body is not null)
        {
            await stream.WriteAsync(GrpcWire.Frame(body.ToByteArray()));
        }

        await stream.CompleteRequestAsync();
        return await GrpcWire.ReadStatusAsync(stream);
    }
}
