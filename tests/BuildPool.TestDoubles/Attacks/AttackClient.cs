using System.Net;
using System.Net.Sockets;
using BuildPool.Http2;
using Google.Protobuf;
using Grpc.Core;

namespace BuildPool.TestDoubles.Attacks;

/// <summary>
/// The hostile client's side of the wire: HTTP/2 connections from its own source address (so
/// per-source limits can tell it from the honest clients on 127.0.0.1) with small receive windows,
/// so the attacker itself buffers little while it holds calls open.
/// </summary>
public sealed class AttackClient(DnsEndPoint gateway, IPAddress source)
{
    private static readonly Http2ClientConnectionOptions Small = new() { InitialStreamWindowSize = 65_535, InitialConnectionWindowSize = 2 * 65_535 };

    public DnsEndPoint Gateway { get; } = gateway;

    public IPAddress Source { get; } = source;

    /// <summary>A TCP connection from <see cref="Source"/>, nothing sent yet.</summary>
    public async Task<Socket> OpenSocketAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(Source, 0));
            await socket.ConnectAsync(Gateway, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP/2 connection (preface and SETTINGS exchanged) from <see cref="Source"/>.</summary>
    public async Task<Http2ClientConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = await OpenSocketAsync(cancellationToken);
        return await Http2ClientConnection.ConnectAsync(new NetworkStream(socket, ownsSocket: true), Small, peerName: "gateway", cancellationToken: cancellationToken);
    }

    /// <summary>Request headers of a gRPC call as grpc-go sends them, plus <paramref name="extra"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers(string path, params KeyValuePair<string, string>[] extra) =>
    [
        new(":method", "POST"),
        new(":scheme", "http"),
        new(":authority", Gateway.Host),
        new(":path", path),
        new("content-type", "application/grpc"),
        new("user-agent", "grpc-go/1.59.0"),
        new("te", "trailers"),
        .. extra,
    ];

    /// <summary>Starts a call and sends <paramref name="message"/> as one gRPC message (compressed flag as given), ending the request when <paramref name="endRequest"/>.</summary>
    public static async Task<Http2ClientStream> SendAsync(
        Http2ClientConnection connection, IReadOnlyList<KeyValuePair<string, string>> headers, IMessage? message, bool compressed, bool endRequest, CancellationToken cancellationToken)
    {
        var stream = await connection.StartStreamAsync(headers, endStream: false, cancellationToken);
        if (message is not null)
        {
            var frame = GrpcMessageReader.Frame(message.ToByteArray());
            frame[0] = compressed ? (byte)1 : (byte)0;
            await stream.WriteAsync(frame, cancellationToken);
        }

        if (endRequest)
        {
            await stream.CompleteRequestAsync();
        }

        return stream;
    }

    /// <summary>Waits for the call's gRPC status (trailers-only or trailers) and counts it; a call still open when <paramref name="cancellationToken"/> fires counts as "held open".</summary>
    public static async Task AnswerAsync(Http2ClientStream stream, AttackTally tally, CancellationToken cancellationToken)
    {
        await using (stream)
        {
            try
            {
                var headers = await stream.ReadResponseHeadersAsync(cancellationToken);
                if (!stream.IsTrailersOnly)
                {
                    var buffer = new byte[16 * 1024];
                    while (await stream.ReadAsync(buffer, cancellationToken) > 0)
                    {
                    }

                    headers = await stream.ReadTrailersAsync(cancellationToken);
                }

                var code = headers.FirstOrDefault(h => h.Key == "grpc-status").Value;
                var message = headers.FirstOrDefault(h => h.Key == "grpc-message").Value;
                tally.Count(
                    int.TryParse(code, out var number) ? ((StatusCode)number).ToString() : $"HTTP {stream.StatusCode}",
                    message is null ? null : Uri.UnescapeDataString(message));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                tally.Count("held open", null);
            }
            catch (Exception ex) when (ex is Http2StreamException or Http2ConnectionException or IOException)
            {
                tally.Count(ex is Http2StreamException reset ? $"reset {reset.ErrorCode}" : "connection closed", ex.Message);
            }
        }
    }
}
