using System.Buffers.Binary;
using System.IO.Compression;
using BuildPool.BuildKit.Protocol;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Google.Protobuf;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// A Solve or Status the gateway cannot read (compressed, no ref, not a request) must not pass as
/// a keyless call: it would reach a builder with no admission slot and no load, past every limit.
/// </summary>
public sealed class UnreadableBuildCallTests
{
    private const string Solve = "/moby.buildkit.v1.Control/Solve";
    private const string Status = "/moby.buildkit.v1.Control/Status";

    public static TheoryData<string, string, string> Calls => new()
    {
        { "a compressed Solve", Solve, "compressed" },
        { "a Solve that names no build ref", Solve, "names no build ref" },
        { "a Solve that is not a Solve request", Solve, "not a valid Solve request" },
        { "a compressed Status", Status, "compressed" },
        { "a Status with no request message", Status, "no request message" },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task A_build_call_the_gateway_cannot_read_is_refused_with_invalid_argument_and_reaches_no_builder(string name, string path, string why)
    {
        _ = name;
        await using var harness = await GatewayHarness.StartAsync(
            builders: 1,
            backend: b => b with { MaxConcurrentBuilds = 1 });
        harness.Fleet.Configure(b => b.HoldSolves = true);
        await using var client = new Http2ClientPool(new Http2ClientPoolOptions());

        // Several at once, as an attacker would, against a builder that admits one build.
        var calls = Enumerable.Range(0, 4).Select(_ => SendAsync(client, harness, path, why)).ToList();
        var answers = await Task.WhenAll(calls).Within(30);

        Assert.All(answers, a => Assert.Equal("3", a.Status));
        Assert.All(answers, a => Assert.Contains(why, a.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(harness.Fleet[0].Builds.Calls, c => c.Method is "Solve" or "Status");
        Assert.Equal(0, harness.Gateway.Admission.TotalRunning);

        // An honest build still goes through.
        harness.Fleet.Configure(b => b.HoldSolves = false);
        var honest = await harness.Client.BuildAsync(GatewayHarness.Project("honest")).Within(30);
        Assert.True(honest.Succeeded, honest.ToString());
    }

    private static async Task<(string? Status, string Message)> SendAsync(Http2ClientPool client, GatewayHarness harness, string path, string why)
    {
        var compressed = why == "compressed";
        var headers = GrpcWire.Request("gateway", path, compressed ? [("grpc-encoding", "gzip")] : []);
        var stream = await client.StartStreamAsync(new System.Net.DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port), headers, endStream: false);
        await using (stream)
        {
            var body = why switch
            {
                "compressed" when path == Solve => Gzip(new SolveRequest { Ref = Guid.NewGuid().ToString("N") }.ToByteArray()),
                "compressed" => Gzip(new StatusRequest { Ref = Guid.NewGuid().ToString("N") }.ToByteArray()),
                "names no build ref" => new SolveRequest { Session = "s" }.ToByteArray(),
                "not a valid Solve request" => [0xff, 0xff, 0xff, 0xff],
                _ => null,
            };
            if (body is not null)
            {
                var framed = new byte[5 + body.Length];
                framed[0] = compressed ? (byte)1 : (byte)0;
                BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)body.Length);
                body.CopyTo(framed.AsSpan(5));
                await stream.WriteAsync(framed);
            }

            await stream.CompleteRequestAsync();
            return await GrpcWire.ReadStatusAsync(stream);
        }
    }

    private static byte[] Gzip(byte[] message)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(message);
        }

        return output.ToArray();
    }
}
