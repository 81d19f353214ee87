using System.Buffers;
using System.Buffers.Binary;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Gateway.Tests.Http2;

/// <summary>
/// Issue 19 item 5: a builder is not trusted. Each test plays a builder that attacks the
/// gateway's HTTP/2 client (goes silent, floods control frames, stops reading) and checks what
/// the gateway's user would see: the streams on that connection fail with a message naming the
/// limit, and the connection ends instead of growing.
/// </summary>
public sealed class Http2ClientConnectionHostilePeerTests
{
    private static readonly List<KeyValuePair<string, string>> Get = GrpcWire.Request("peer", "/x");

    public static TheoryData<string> Floods => ["PING", "SETTINGS", "empty DATA", "PRIORITY", "RST_STREAM", "unknown frame type", "zero-length HEADERS", "SETTINGS ACK"];

    [Fact]
    public async Task A_builder_that_stops_answering_fails_its_streams_within_a_minute_by_default()
    {
        var time = new FakeTimeProvider();
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(new Http2ClientConnectionOptions { TimeProvider = time });
        var stream = await connection.StartStreamAsync(Get, endStream: false);
        await peer.ExpectAsync(Http2FrameType.Headers);
        var headers = stream.ReadResponseHeadersAsync();
        var started = time.GetUtcNow();

        // The peer now says nothing and answers nothing, as a frozen (SIGSTOP) or vanished node does.
        await BuildPool.TestDoubles.Eventually.AdvanceUntilAsync(time, TimeSpan.FromSeconds(1), () => headers.IsCompleted, "the silent builder's stream fails", TimeSpan.FromSeconds(30));

        Assert.InRange(time.GetUtcNow() - started, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => headers);
        Assert.Contains("keep-alive PING", error.Message, StringComparison.Ordinal);
        Assert.False(connection.IsAvailable);
    }

    [Fact]
    public async Task A_connection_without_streams_sends_no_keepalive_PING()
    {
        var time = new FakeTimeProvider();
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(new Http2ClientConnectionOptions { TimeProvider = time });
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Settings && h.Flags == Http2FrameFlags.Ack);

        // gRPC servers count PINGs on idle connections as abuse (grpc-go: too_many_pings), so an idle pool stays quiet.
        time.Advance(TimeSpan.FromMinutes(5));
        var stream = await connection.StartStreamAsync(Get, endStream: true);

        var next = await peer.ExpectAsync(_ => true);
        Assert.Equal(Http2FrameType.Headers, next.Header.Type);
        Assert.True(connection.IsAvailable);
        Assert.NotNull(stream);
    }

    [Fact]
    public async Task A_silent_stream_is_kept_alive_by_PINGs_the_builder_answers()
    {
        var time = new FakeTimeProvider();
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(new Http2ClientConnectionOptions { TimeProvider = time });
        var stream = await connection.StartStreamAsync(Get, endStream: false);
        await peer.ExpectAsync(Http2FrameType.Headers);

        for (var round = 0; round < 4; round++)
        {
            var ping = peer.ExpectAsync(h => h.Type == Http2FrameType.Ping && h.Flags == 0);
            await BuildPool.TestDoubles.Eventually.AdvanceUntilAsync(time, TimeSpan.FromMilliseconds(250), () => ping.IsCompleted, "a keep-alive PING goes out after 30 s of silence");
            var payload = BinaryPrimitives.ReadUInt64BigEndian((await ping).Payload);
            await peer.SendAsync(w => Http2FrameWriter.WritePing(w, payload, ack: true));
        }

        Assert.True(connection.IsAvailable);
        Assert.False(stream.ReadResponseHeadersAsync().IsCompleted);
    }

    [Theory]
    [MemberData(nameof(Floods))]
    public async Task A_control_frame_flood_ends_the_connection_with_GOAWAY_ENHANCE_YOUR_CALM_and_fails_its_streams(string flood)
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var closed = await connection.StartStreamAsync(Get, endStream: true);
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Headers && h.StreamId == closed.Id);
        await peer.SendHeadersAsync(closed.Id, endStream: true, 16_384, new(":status", "200"), new("grpc-status", "0"));
        await closed.ReadResponseHeadersAsync().Within();
        var victim = await connection.StartStreamAsync(Get, endStream: false);
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Headers && h.StreamId == victim.Id);

        var flooding = peer.SendAsync(w => WriteFlood(w, flood, closed.Id, 5_000));

        var goAway = await peer.ExpectAsync(Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => victim.ReadResponseHeadersAsync().Within());
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, error.ErrorCode);
        Assert.Contains($"{flood} flood", error.Message, StringComparison.Ordinal);
        Assert.Contains("--upstream-max-control-frames", error.Message, StringComparison.Ordinal);
        await flooding.Within();
    }

    [Fact]
    public async Task Acknowledgements_a_builder_never_reads_stop_queueing_at_the_limit()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(new Http2ClientConnectionOptions { MaxControlFramesPerSecond = int.MaxValue });
        var victim = await connection.StartStreamAsync(Get, endStream: false);
        var headers = victim.ReadResponseHeadersAsync();

        // The peer sends PINGs and never reads the answers: without a bound they queue in the gateway forever.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var batch = new ArrayBufferWriter<byte>();
        WriteFlood(batch, "PING", 0, 10_000);
        var sent = 0;
        while (!headers.IsCompleted && !deadline.IsCancellationRequested && sent < 2_000_000)
        {
            var write = peer.SendAsync(w => w.Write(batch.WrittenSpan));
            await Task.WhenAny(write, headers);
            sent += 10_000;
        }

        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => headers.Within(5));
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, error.ErrorCode);
        Assert.Contains("--upstream-max-queued-control-frames", error.Message, StringComparison.Ordinal);
        Assert.InRange(sent, 1, 2_000_000);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task An_endless_CONTINUATION_chain_fails_the_connection(int octetsPerFrame)
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var victim = await connection.StartStreamAsync(Get, endStream: false);
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Headers && h.StreamId == victim.Id);

        // Empty or one-octet frames: far under the header block's size limit, yet the block never
        // ends, and no other stream's frames may come in between until it does.
        var flooding = peer.SendAsync(w =>
        {
            Http2FrameWriter.WriteHeader(w, octetsPerFrame, Http2FrameType.Headers, 0, victim.Id);
            w.Write(new byte[octetsPerFrame].AsSpan());
            for (var i = 0; i < 2_000; i++)
            {
                Http2FrameWriter.WriteHeader(w, octetsPerFrame, Http2FrameType.Continuation, 0, victim.Id);
                w.Write(new byte[octetsPerFrame].AsSpan());
            }
        });

        var goAway = await peer.ExpectAsync(Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => victim.ReadResponseHeadersAsync().Within());
        Assert.Contains("CONTINUATION", error.Message, StringComparison.Ordinal);
        await flooding.Within();
    }

    [Fact]
    public async Task PINGs_that_answer_the_gateways_own_DATA_frames_are_not_a_flood()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(null, (Http2SettingId.InitialWindowSize, 1 << 30));
        var stream = await connection.StartStreamAsync(Get, endStream: false);
        await peer.ExpectAsync(Http2FrameType.Headers);
        await peer.SendAsync(w => Http2FrameWriter.WriteWindowUpdate(w, 0, (1 << 30) - 65_535));

        // grpc-go measures bandwidth with a PING per burst of DATA it receives (BDP estimation).
        for (var i = 0; i < 2_000; i++)
        {
            await stream.WriteAsync(new byte[16]);
            await peer.ExpectAsync(Http2FrameType.Data);
            await peer.SendAsync(w => Http2FrameWriter.WritePing(w, (ulong)i, ack: false));
        }

        await peer.ExpectAsync(h => h.Type == Http2FrameType.Ping && h.Flags == Http2FrameFlags.Ack && h.Length == 8);
        Assert.True(connection.IsAvailable);
    }

    private static void WriteFlood(IBufferWriter<byte> w, string flood, int closedStream, int count)
    {
        for (var i = 0; i < count; i++)
        {
            switch (flood)
            {
                case "PING":
                    Http2FrameWriter.WritePing(w, (ulong)i, ack: false);
                    break;
                case "SETTINGS":
                    Http2FrameWriter.WriteSettings(w, []);
                    break;
                case "SETTINGS ACK":
                    Http2FrameWriter.WriteSettingsAck(w);
                    break;
                case "empty DATA":
                    Http2FrameWriter.WriteData(w, closedStream, [], endStream: false);
                    break;
                case "PRIORITY":
                    Http2FrameWriter.WritePriority(w, closedStream, 0, 15);
                    break;
                case "RST_STREAM":
                    Http2FrameWriter.WriteRstStream(w, closedStream, Http2ErrorCode.Cancel);
                    break;
                case "unknown frame type":
                    Http2FrameWriter.WriteHeader(w, 0, (Http2FrameType)0xEE, 0, 0);
                    break;
                case "zero-length HEADERS":
                    Http2FrameWriter.WriteHeader(w, 0, Http2FrameType.Headers, Http2FrameFlags.EndHeaders, closedStream);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(flood), flood, "no such flood");
            }
        }
    }
}
