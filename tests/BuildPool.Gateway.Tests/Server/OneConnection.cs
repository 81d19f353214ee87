using System.Globalization;
using System.Net;
using BuildPool.BuildKit.Protocol;
using BuildPool.Http2;
using BuildPool.TestDoubles;
using Google.Protobuf;
using Grpc.Core;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// Several builds over ONE client connection (Session + Solve each), as buildx runs a keyed
/// build and then its keyless probe builds on the same connection; FakeBuildxClient opens a new
/// connection per build, so it cannot show this.
/// </summary>
internal sealed class OneConnection : IAsyncDisposable
{
    private readonly Http2ClientConnection _connection;
    private readonly string _authority;

    private OneConnection(Http2ClientConnection connection, string authority)
    {
        _connection = connection;
        _authority = authority;
    }

    public static async Task<OneConnection> OpenAsync(IPEndPoint gateway, Http2ClientConnectionOptions? options = null)
    {
        var endPoint = new DnsEndPoint(gateway.Address.ToString(), gateway.Port);
        var transport = await Http2Connector.ConnectAsync(endPoint, tls: null, CancellationToken.None);
        return new OneConnection(await Http2ClientConnection.ConnectAsync(transport, options, peerName: "gateway"), endPoint.Host);
    }

    /// <summary>The connection closed (the gateway cut it, or it failed).</summary>
    public Task Closed => _connection.Completion;

    /// <summary>One build; <paramref name="sharedKey"/> null sends no shared-key header (a keyless build).</summary>
    public async Task<(StatusCode Status, string? Builder)> BuildAsync(string? sharedKey)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var token = timeout.Token;
        var (session, status, builder) = await SolveAsync(sharedKey, token);
        await using (session)
        {
            await session.CompleteRequestAsync();
            await ReadToEndAsync(session, token);
        }

        return (status, builder);
    }

    /// <summary>
    /// A keyless build whose Solve has completed and whose Session stream stays open for the
    /// caller to write to: the builder echoes what it is sent, and nobody reads the echo here.
    /// </summary>
    public async Task<Http2ClientStream> OpenSessionAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (session, status, _) = await SolveAsync(sharedKey: null, timeout.Token);
        if (status != StatusCode.OK)
        {
            await session.DisposeAsync();
            throw new InvalidOperationException($"A build's Solve ended with {status}.");
        }

        return session;
    }

    // Opens a Session, then runs a Solve that uses it; the Session stays open.
    private async Task<(Http2ClientStream Session, StatusCode Status, string? Builder)> SolveAsync(string? sharedKey, CancellationToken token)
    {
        var sessionId = FakeBuildxOptions.NewId();
        var sessionHeaders = new List<KeyValuePair<string, string>> { new(FakeBuilds.SessionUuidHeader.ToLowerInvariant(), sessionId) };
        if (sharedKey is not null)
        {
            sessionHeaders.Add(new(FakeBuilds.SessionSharedKeyHeader.ToLowerInvariant(), sharedKey));
        }

        sessionHeaders.AddRange(FakeSession.FileSyncMethods.Select(m => new KeyValuePair<string, string>(FakeBuilds.SessionMethodHeader.ToLowerInvariant(), m)));
        var session = await _connection.StartStreamAsync(Headers("Session", sessionHeaders), endStream: false, token);
        try
        {
            await session.WriteAsync(Frame(new BytesMessage { Data = ByteString.CopyFromUtf8("context") }), token);
            await using var solve = await _connection.StartStreamAsync(Headers("Solve", []), endStream: false, token);
            await solve.WriteAsync(Frame(new SolveRequest { Ref = FakeBuildxOptions.NewId(), Session = sessionId }), token);
            await solve.CompleteRequestAsync();
            var (status, builder) = await ReadToEndAsync(solve, token);
            return (session, status, builder);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>One gRPC <c>BytesMessage</c> as a Session stream carries it, framed.</summary>
    public static byte[] SessionMessage(int size) => Frame(new BytesMessage { Data = ByteString.CopyFrom(new byte[size]) });

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private static async Task<(StatusCode, string?)> ReadToEndAsync(Http2ClientStream stream, CancellationToken token)
    {
        var headers = await stream.ReadResponseHeadersAsync(token);
        var builder = Get(headers, FakeBuildKitDaemon.BuilderHeader);
        if (!stream.IsTrailersOnly)
        {
            var buffer = new byte[16 * 1024];
            while (await stream.ReadAsync(buffer, token) > 0)
            {
            }

            headers = await stream.ReadTrailersAsync(token);
        }

        var status = Get(headers, "grpc-status") is { } text ? (StatusCode)int.Parse(text, CultureInfo.InvariantCulture) : StatusCode.Internal;
        return (status, builder);
    }

    private List<KeyValuePair<string, string>> Headers(string method, IEnumerable<KeyValuePair<string, string>> extra) =>
    [
        new(":method", "POST"),
        new(":scheme", "http"),
        new(":authority", _authority),
        new(":path", "/moby.buildkit.v1.Control/" + method),
        new("content-type", "application/grpc"),
        new("te", "trailers"),
        .. extra,
    ];

    private static byte[] Frame(IMessage message)
    {
        var body = message.ToByteArray();
        var framed = new byte[5 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)body.Length);
        body.CopyTo(framed, 5);
        return framed;
    }

    private static string? Get(IReadOnlyList<KeyValuePair<string, string>> fields, string name) =>
        fields.FirstOrDefault(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
