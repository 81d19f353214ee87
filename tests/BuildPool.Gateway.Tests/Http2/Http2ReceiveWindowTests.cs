using System.Buffers.Binary;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Microsoft.AspNetCore.Builder;

namespace BuildPool.Gateway.Tests.Http2;

/// <summary>
/// The receive side bounds what a connection buffers: the connection window comes back only as
/// streams are read (or dropped), and connections sharing a budget reserve their windows from it.
/// </summary>
public sealed class Http2ReceiveWindowTests
{
    private const int Window = 65_535;

    private static readonly List<KeyValuePair<string, string>> Get = GrpcWire.Request("peer", "/x");

    // Twice the stream window: a stream fills half, and the connection credits at once when it is that low.
    private static readonly Http2ClientConnectionOptions SmallWindows = new() { InitialStreamWindowSize = Window, InitialConnectionWindowSize = 2 * Window };

    [Fact]
    public async Task The_connection_window_comes_back_as_the_data_is_read_not_as_it_arrives()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(SmallWindows);
        Assert.Equal(Window, await PrefaceRaiseAsync(peer));
        var (first, _) = await TwoStreamsWithDataAsync(peer, connection);

        Assert.False(await ConnectionCreditedBeforePingAckAsync(peer), "the connection window was credited for data nobody read");
        await GrpcWire.ReadExactlyAsync(first, 64_000);
        Assert.True(await ConnectionCreditAsync(peer, 1) > 0);
    }

    [Fact]
    public async Task A_reset_stream_gives_the_window_of_its_unread_data_back_to_the_connection()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(SmallWindows);
        await PrefaceRaiseAsync(peer);
        var (first, _) = await TwoStreamsWithDataAsync(peer, connection);

        first.Reset();

        Assert.Equal(64_000, await ConnectionCreditAsync(peer, 64_000));
    }

    [Fact]
    public async Task Data_for_a_stream_already_reset_is_given_back_to_the_connection_at_once()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(SmallWindows);
        await PrefaceRaiseAsync(peer);
        var stream = await connection.StartStreamAsync(Get, endStream: true);
        await peer.SendHeadersAsync(stream.Id, endStream: false, 16_384, new KeyValuePair<string, string>(":status", "200"));
        stream.Reset();
        await peer.ExpectAsync(Http2FrameType.RstStream);

        // Sent before the peer saw the reset: it counts against the connection window all the same.
        for (var i = 0; i < 5; i++)
        {
            await peer.SendAsync(w => Http2FrameWriter.WriteData(w, stream.Id, new byte[16_000], endStream: false));
        }

        Assert.Equal(80_000, await ConnectionCreditAsync(peer, 80_000));
    }

    [Fact]
    public async Task Streams_nobody_reads_hold_only_their_own_windows_and_other_streams_on_the_connection_keep_flowing()
    {
        var chunk = new byte[1024 * 1024];
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/source", async context =>
        {
            for (var i = 0; i < 32; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        }));
        var options = new Http2ClientConnectionOptions();
        await using var connection = await Http2ClientConnection.ConnectAsync(await Http2Connector.ConnectAsync(server.EndPoint, null, CancellationToken.None), options);
        var request = GrpcWire.Request($"127.0.0.1:{server.Port}", "/source");

        // Eight streams that are never read hold half of the connection window between them.
        var unread = new List<Http2ClientStream>();
        for (var i = 0; i < 8; i++)
        {
            unread.Add(await connection.StartStreamAsync(request, endStream: true));
        }

        await Eventually.TrueAsync(() => unread.All(s => s.MaxBufferedBytes >= options.InitialStreamWindowSize - 16_384), "the unread streams fill their windows");
        var read = await connection.StartStreamAsync(request, endStream: true);
        Assert.Equal(32 * chunk.Length, (await GrpcWire.ReadToEndAsync(read).Within(60)).Length);
        Assert.All(unread, s => Assert.True(s.MaxBufferedBytes <= options.InitialStreamWindowSize, $"an unread stream buffered {s.MaxBufferedBytes}"));
    }

    [Fact]
    public async Task Connections_sharing_a_budget_reserve_their_windows_from_it_and_one_that_got_none_takes_its_window_once_another_closes()
    {
        var budget = new Http2ReceiveBudget(2 * Window);
        var options = new Http2ClientConnectionOptions { InitialStreamWindowSize = Window, InitialConnectionWindowSize = 3 * Window, ReceiveBudget = budget };
        await using var firstPeer = new RawHttp2Peer();
        await using var secondPeer = new RawHttp2Peer();
        await using var first = await firstPeer.ConnectClientAsync(options);
        await using var second = await secondPeer.ConnectClientAsync(options);

        Assert.Equal(2 * Window, await PrefaceRaiseAsync(firstPeer));
        Assert.Equal(0, await PrefaceRaiseAsync(secondPeer));
        Assert.Equal(2 * Window, budget.Reserved);
        await first.DisposeAsync();
        Assert.Equal(0, budget.Reserved);

        // The second connection started with the protocol's 65,535 only; it takes its window as its data is read.
        var stream = await second.StartStreamAsync(Get, endStream: true);
        await secondPeer.SendHeadersAsync(stream.Id, endStream: false, 16_384, new KeyValuePair<string, string>(":status", "200"));
        for (var i = 0; i < 4; i++)
        {
            await secondPeer.SendAsync(w => Http2FrameWriter.WriteData(w, stream.Id, new byte[16_000], endStream: false));
        }

        await GrpcWire.ReadExactlyAsync(stream, 64_000);
        Assert.True(await ConnectionCreditAsync(secondPeer, 2 * Window) >= 2 * Window);
        Assert.Equal(2 * Window, budget.Reserved);
    }

    // Stream 1 gets 64,000 octets and stream 2 16,000: 80,000 of the 131,070-octet connection window.
    private static async Task<(Http2ClientStream First, Http2ClientStream Second)> TwoStreamsWithDataAsync(RawHttp2Peer peer, Http2ClientConnection connection)
    {
        var first = await connection.StartStreamAsync(Get, endStream: true);
        var second = await connection.StartStreamAsync(Get, endStream: true);
        foreach (var stream in new[] { first, second })
        {
            await peer.SendHeadersAsync(stream.Id, endStream: false, 16_384, new KeyValuePair<string, string>(":status", "200"));
        }

        for (var i = 0; i < 4; i++)
        {
            await peer.SendAsync(w => Http2FrameWriter.WriteData(w, first.Id, new byte[16_000], endStream: false));
        }

        await peer.SendAsync(w => Http2FrameWriter.WriteData(w, second.Id, new byte[16_000], endStream: false));
        await Eventually.TrueAsync(() => first.MaxBufferedBytes == 64_000 && second.MaxBufferedBytes == 16_000, "the data is buffered");
        return (first, second);
    }

    // The client answers PING in frame order, so an update caused by the DATA comes before the ACK.
    private static async Task<bool> ConnectionCreditedBeforePingAckAsync(RawHttp2Peer peer)
    {
        await peer.SendAsync(w => Http2FrameWriter.WritePing(w, 7, ack: false));
        var credited = false;
        await peer.ExpectAsync(h =>
        {
            credited |= h.Type == Http2FrameType.WindowUpdate && h.StreamId == 0;
            return h.Type == Http2FrameType.Ping;
        });
        return credited;
    }

    // Adds up connection WINDOW_UPDATEs until they reach at least the expected total.
    private static async Task<int> ConnectionCreditAsync(RawHttp2Peer peer, int expected)
    {
        var total = 0;
        while (total < expected)
        {
            var update = await peer.ExpectAsync(h => h.Type == Http2FrameType.WindowUpdate && h.StreamId == 0);
            total += BinaryPrimitives.ReadInt32BigEndian(update.Payload);
        }

        return total;
    }

    // The WINDOW_UPDATE after the preface's SETTINGS raises the connection window by what the
    // client could reserve; a client that got nothing sends none before its SETTINGS ACK.
    private static async Task<int> PrefaceRaiseAsync(RawHttp2Peer peer)
    {
        var raise = 0;
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Settings && h.Flags == 0);
        var frame = await peer.ExpectAsync(h => h.Type == Http2FrameType.WindowUpdate || (h.Type == Http2FrameType.Settings && h.Flags == Http2FrameFlags.Ack));
        if (frame.Header.Type == Http2FrameType.WindowUpdate)
        {
            raise = BinaryPrimitives.ReadInt32BigEndian(frame.Payload);
        }

        return raise;
    }
}
