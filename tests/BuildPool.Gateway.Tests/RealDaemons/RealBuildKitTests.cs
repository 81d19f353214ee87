using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using BuildPool.BuildKit.Protocol;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.Http2;
using Google.Protobuf;

namespace BuildPool.Gateway.Tests.RealDaemons;

/// <summary>
/// The gateway in front of real buildkitd daemons (issue 4 item 10): the bootstrap calls buildx
/// makes answer as the daemons themselves answer. Whole builds with the real buildx client are in
/// <see cref="RealBuildxTests"/>. Runs only when <see cref="RealBuildKitFactAttribute.Variable"/> lists daemons.
/// </summary>
public sealed class RealBuildKitTests
{
    private const string Domain = "builds.example.test";

    [RealBuildKitFact]
    public async Task Info_and_ListWorkers_through_the_gateway_answer_as_the_daemons_do()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using var gateway = await StartAsync(timeout.Token);
        var versions = new HashSet<string>(StringComparer.Ordinal);
        var workers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var backend in Backends())
        {
            await using var direct = await UnaryClient.ConnectAsync(backend.EndPoint, timeout.Token);
            versions.Add(InfoResponse.Parser.ParseFrom(await direct.CallAsync("Info", new InfoRequest(), backend.EndPoint.Host, timeout.Token)).BuildkitVersion.Version);
            workers.UnionWith(ListWorkersResponse.Parser.ParseFrom(await direct.CallAsync("ListWorkers", new ListWorkersRequest(), backend.EndPoint.Host, timeout.Token)).Record.Select(w => w.ID));
        }

        await using var through = await UnaryClient.ConnectAsync(new DnsEndPoint("127.0.0.1", gateway.EndPoint.Port), timeout.Token);
        var info = InfoResponse.Parser.ParseFrom(await through.CallAsync("Info", new InfoRequest(), "127.0.0.1", timeout.Token));
        var listed = ListWorkersResponse.Parser.ParseFrom(await through.CallAsync("ListWorkers", new ListWorkersRequest(), "127.0.0.1", timeout.Token));

        Assert.Contains(info.BuildkitVersion.Version, versions);
        Assert.NotEmpty(listed.Record);
        Assert.All(listed.Record, worker => Assert.Contains(worker.ID, workers));
    }

    private static List<StaticBackend> Backends() =>
        [.. RealBuildKitFactAttribute.Addresses.Select((address, i) => StaticBackendParser.Parse($"real-{i}={address}"))];

    private static Task<GatewayServer> StartAsync(CancellationToken cancellationToken) =>
        GatewayServer.StartAsync(
            new GatewayOptions
            {
                Listen = new IPEndPoint(IPAddress.Loopback, 0),
                Backends = Backends(),
                Domain = Domain,
                ShutdownTimeout = TimeSpan.FromSeconds(5),
            },
            cancellationToken: cancellationToken);

    // gRPC unary calls written onto the gateway's own HTTP/2 client, so the :authority (the
    // routing key) can be chosen per call.
    private sealed class UnaryClient(Http2ClientConnection connection) : IAsyncDisposable
    {
        public static async Task<UnaryClient> ConnectAsync(DnsEndPoint endPoint, CancellationToken cancellationToken)
        {
            var transport = await Http2Connector.ConnectAsync(endPoint, tls: null, cancellationToken);
            return new UnaryClient(await Http2ClientConnection.ConnectAsync(transport, cancellationToken: cancellationToken));
        }

        public async Task<byte[]> CallAsync(string method, IMessage request, string authority, CancellationToken cancellationToken)
        {
            List<KeyValuePair<string, string>> headers =
            [
                new(":method", "POST"),
                new(":scheme", "http"),
                new(":authority", authority),
                new(":path", "/moby.buildkit.v1.Control/" + method),
                new("content-type", "application/grpc"),
                new("te", "trailers"),
            ];
            await using var stream = await connection.StartStreamAsync(headers, endStream: false, cancellationToken);
            var body = request.ToByteArray();
            var framed = new byte[5 + body.Length];
            BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)body.Length);
            body.CopyTo(framed, 5);
            await stream.WriteAsync(framed, cancellationToken);
            await stream.CompleteRequestAsync();

            var status = await stream.ReadResponseHeadersAsync(cancellationToken);
            using var received = new MemoryStream();
            if (!stream.IsTrailersOnly)
            {
                var buffer = new byte[16 * 1024];
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    received.Write(buffer, 0, read);
                }

                status = await stream.ReadTrailersAsync(cancellationToken);
            }

            var code = status.FirstOrDefault(h => h.Key == "grpc-status").Value;
            if (code != "0")
            {
                var message = status.FirstOrDefault(h => h.Key == "grpc-message").Value;
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{method} via {authority}: grpc-status {code ?? "none"} {message}"));
            }

            var bytes = received.ToArray();
            return bytes.Length >= 5 ? bytes[5..] : [];
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
