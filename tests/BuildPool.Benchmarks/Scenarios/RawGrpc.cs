using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using BuildPool.BuildKit.Protocol;
using BuildPool.Http2;
using Google.Protobuf;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// gRPC calls written straight onto one <see cref="Http2ClientConnection"/>, so the client costs
/// the same whether it talks to the gateway or to the builder, and nothing but the path differs.
/// </summary>
internal sealed class RawGrpc : IAsyncDisposable
{
    private static readonly byte[] EmptyMessage = new byte[5];

    private readonly Http2ClientConnection _connection;
    private readonly string _authority;
    private readonly string _scheme;

    private RawGrpc(Http2ClientConnection connection, string authority, string scheme)
    {
        _connection = connection;
        _authority = authority;
        _scheme = scheme;
    }

    public static async Task<RawGrpc> ConnectAsync(DnsEndPoint endPoint, Http2TlsOptions? tls = null, CancellationToken cancellationToken = default)
    {
        var transport = await Http2Connector.ConnectAsync(endPoint, tls, cancellationToken);
        var connection = await Http2ClientConnection.ConnectAsync(transport, peerName: $"{endPoint.Host}:{endPoint.Port}", cancellationToken: cancellationToken);
        return new RawGrpc(connection, tls?.ServerName ?? endPoint.Host, tls is null ? "http" : "https");
    }

    /// <summary>One <c>Control/Info</c>; returns its latency in microseconds, or throws when it did not succeed.</summary>
    public async Task<double> InfoAsync(CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await using var stream = await _connection.StartStreamAsync(Headers("/moby.buildkit.v1.Control/Info", []), endStream: false, cancellationToken);
        await stream.WriteAsync(EmptyMessage, cancellationToken);
        await stream.CompleteRequestAsync();
        await DrainAsync(stream, new byte[4096], expected: 0, cancellationToken);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    /// <summary>
    /// A <c>Control/Session</c> stream that sends <paramref name="totalBytes"/> of payload in
    /// messages of <paramref name="messageBytes"/>, while reading the builder's echo; returns the
    /// time until the last echoed byte and the trailers arrived.
    /// </summary>
    public async Task<TimeSpan> SessionEchoAsync(long totalBytes, int messageBytes, CancellationToken cancellationToken)
    {
        var payload = new byte[messageBytes];
        Random.Shared.NextBytes(payload);
        var framed = Frame(new BytesMessage { Data = ByteString.CopyFrom(payload) });
        var messages = totalBytes / messageBytes;

        var sessionId = Guid.NewGuid().ToString("N")[..25];
        var start = Stopwatch.GetTimestamp();
        var headers = Headers("/moby.buildkit.v1.Control/Session",
        [
            new("x-docker-expose-session-uuid", sessionId),
            new("x-docker-expose-session-name", "bench"),
            new("x-docker-expose-session-sharedkey", "bench-context:0123456789abcdef"),
            new("x-docker-expose-session-grpc-method", "/moby.filesync.v1.FileSync/DiffCopy"),
            new("x-docker-expose-session-grpc-method", "/moby.filesync.v1.FileSync/TarStream"),
        ]);
        await using var stream = await _connection.StartStreamAsync(headers, endStream: false, cancellationToken);

        // The Solve naming the session, right behind it as buildx sends it: the gateway holds a
        // Session until the Solve that may carry a better key arrives, so without it the stream
        // would wait out the decision timeout.
        await using var solve = await _connection.StartStreamAsync(Headers("/moby.buildkit.v1.Control/Solve", []), endStream: false, cancellationToken);
        await solve.WriteAsync(Frame(new SolveRequest { Ref = Guid.NewGuid().ToString("N")[..25], Session = sessionId }), cancellationToken);
        await solve.CompleteRequestAsync();
        var solved = DrainAsync(solve, new byte[4096], expected: 0, cancellationToken);
        var writer = Task.Run(async () =>
        {
            for (var i = 0L; i < messages; i++)
            {
                await stream.WriteAsync(framed, cancellationToken);
            }

            await stream.CompleteRequestAsync();
        }, cancellationToken);
        await DrainAsync(stream, new byte[256 * 1024], expected: messages * framed.Length, cancellationToken);
        await writer;
        var elapsed = Stopwatch.GetElapsedTime(start);
        await solved;
        return elapsed;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private static byte[] Frame(IMessage message)
    {
        var body = message.ToByteArray();
        var framed = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)body.Length);
        body.CopyTo(framed, 5);
        return framed;
    }

    private static async Task DrainAsync(Http2ClientStream stream, byte[] buffer, long expected, CancellationToken cancellationToken)
    {
        var headers = await stream.ReadResponseHeadersAsync(cancellationToken);
        var received = 0L;
        if (!stream.IsTrailersOnly)
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received += read;
            }

            headers = await stream.ReadTrailersAsync(cancellationToken);
        }

        var status = headers.FirstOrDefault(h => h.Key == "grpc-status").Value;
        if (status != "0" || (expected > 0 && received != expected))
        {
            var message = headers.FirstOrDefault(h => h.Key == "grpc-message").Value;
            throw new InvalidOperationException($"Call failed: grpc-status {status ?? "none"} {message}, received {received} of {expected} bytes.");
        }
    }

    private List<KeyValuePair<string, string>> Headers(string path, IEnumerable<KeyValuePair<string, string>> extra) =>
    [
        new(":method", "POST"),
        new(":scheme", _scheme),
        new(":authority", _authority),
        new(":path", path),
        new("content-type", "application/grpc"),
        new("user-agent", "grpc-go/1.59.0"),
        new("te", "trailers"),
        .. extra,
    ];
}
