using System.Buffers.Binary;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;

namespace BuildPool.Gateway.Tests.Http2;

/// <summary>Frame-level behaviour against a scripted peer.</summary>
public sealed class Http2ClientConnectionProtocolTests
{
    private static readonly List<KeyValuePair<string, string>> Get = GrpcWire.Request("peer", "/x");

    private static KeyValuePair<string, string> H(string name, string value) => new(name, value);

    [Fact]
    public async Task The_preface_announces_push_disabled_a_bounded_stream_window_and_a_larger_connection_window()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();

        var settings = await peer.ExpectAsync(h => h.Type == Http2FrameType.Settings && h.Flags == 0);
        var values = new Dictionary<Http2SettingId, uint>();
        for (var i = 0; i < settings.Payload.Length; i += 6)
        {
            values[(Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(settings.Payload.AsSpan(i))] = BinaryPrimitives.ReadUInt32BigEndian(settings.Payload.AsSpan(i + 2));
        }

        var windowUpdate = await peer.ExpectAsync(Http2FrameType.WindowUpdate);
        Assert.Equal(0u, values[Http2SettingId.EnablePush]);
        Assert.Equal(1024u * 1024, values[Http2SettingId.InitialWindowSize]);
        Assert.Equal(0, windowUpdate.Header.StreamId);
        Assert.Equal((16 * 1024 * 1024) - 65_535, BinaryPrimitives.ReadInt32BigEndian(windowUpdate.Payload));
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Settings && h.Flags == Http2FrameFlags.Ack);
    }

    [Fact]
    public async Task Data_never_exceeds_the_peer_window_and_resumes_on_WINDOW_UPDATE()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(null, (Http2SettingId.InitialWindowSize, 10));
        var stream = await connection.StartStreamAsync(Get, endStream: false);

        var write = stream.WriteAsync(new byte[25]).AsTask();
        var first = await peer.ExpectAsync(Http2FrameType.Data);
        Assert.Equal(10, first.Header.Length);
        await Eventually.TrueAsync(() => stream.WindowWaitCount > 0, "the writer waits for window");
        Assert.False(write.IsCompleted);

        await peer.SendAsync(w => Http2FrameWriter.WriteWindowUpdate(w, stream.Id, 100));
        var second = await peer.ExpectAsync(Http2FrameType.Data);
        await write.Within();
        Assert.Equal(15, second.Header.Length);
    }

    [Fact]
    public async Task Streams_above_the_GOAWAY_last_stream_id_fail_as_retryable_while_lower_ones_continue()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var kept = await connection.StartStreamAsync(Get, endStream: true);
        var refused = await connection.StartStreamAsync(Get, endStream: true);
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Headers && h.StreamId == refused.Id);

        await peer.SendAsync(w => Http2FrameWriter.WriteGoAway(w, kept.Id, Http2ErrorCode.NoError));

        var error = await Assert.ThrowsAsync<Http2StreamException>(() => refused.ReadResponseHeadersAsync().Within());
        Assert.True(error.IsRetryable);
        await Eventually.TrueAsync(() => !connection.IsAvailable, "the connection stops taking streams");
        Assert.True((await Assert.ThrowsAsync<Http2ConnectionException>(() => connection.StartStreamAsync(Get, endStream: true))).IsRetryable);

        await peer.SendHeadersAsync(kept.Id, endStream: true, 16_384, H(":status", "200"), H("grpc-status", "0"));
        Assert.Equal("0", (await kept.ReadResponseHeadersAsync().Within()).Get("grpc-status"));
        // With its last stream done the client hangs up instead of idling on a dead connection.
        await connection.Completion.Within();
    }

    [Fact]
    public async Task Response_headers_split_over_CONTINUATION_frames_are_reassembled()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var stream = await connection.StartStreamAsync(Get, endStream: true);
        var big = new string('v', 30_000);

        await peer.SendHeadersAsync(stream.Id, endStream: false, 16_384, H(":status", "200"), H("x-big", big), H("x-after", "1"));
        var headers = await stream.ReadResponseHeadersAsync().Within();

        Assert.Equal(big, headers.Get("x-big"));
        Assert.Equal("1", headers.Get("x-after"));
    }

    [Fact]
    public async Task Large_request_headers_are_sent_as_HEADERS_plus_CONTINUATION()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var headers = new List<KeyValuePair<string, string>>(Get) { H("x-big", new string('q', 40_000)) };

        await connection.StartStreamAsync(headers, endStream: true);
        var first = await peer.ExpectAsync(Http2FrameType.Headers);
        var block = new List<byte>(first.Payload);
        var flags = first.Header.Flags;
        while ((flags & Http2FrameFlags.EndHeaders) == 0)
        {
            var next = await peer.ExpectAsync(_ => true);
            Assert.Equal(Http2FrameType.Continuation, next.Header.Type);
            block.AddRange(next.Payload);
            flags = next.Header.Flags;
        }

        var decoded = new List<KeyValuePair<string, string>>();
        Assert.True(new HpackDecoder(maxHeaderListSize: 1 << 20).Decode(block.ToArray(), decoded));
        Assert.Equal(headers, decoded);
        Assert.True((first.Header.Flags & Http2FrameFlags.EndStream) != 0);
    }

    [Fact]
    public async Task A_PING_is_answered_with_the_same_payload()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();

        await peer.SendAsync(w => Http2FrameWriter.WritePing(w, 0xDEADBEEF, ack: false));
        var ack = await peer.ExpectAsync(h => h.Type == Http2FrameType.Ping);

        Assert.Equal(Http2FrameFlags.Ack, ack.Header.Flags);
        Assert.Equal(0xDEADBEEFUL, BinaryPrimitives.ReadUInt64BigEndian(ack.Payload));
    }

    [Fact]
    public async Task PUSH_PROMISE_is_a_connection_error_that_fails_open_streams()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var stream = await connection.StartStreamAsync(Get, endStream: true);

        await peer.SendAsync(w => Http2FrameWriter.WritePushPromise(w, stream.Id, 2, [0x82]));

        var goAway = await peer.ExpectAsync(Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.ProtocolError, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => stream.ReadResponseHeadersAsync().Within());
        Assert.Equal(Http2ErrorCode.ProtocolError, error.ErrorCode);
    }

    [Fact]
    public async Task A_frame_above_our_max_frame_size_is_answered_with_GOAWAY_FRAME_SIZE_ERROR()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var stream = await connection.StartStreamAsync(Get, endStream: true);
        await peer.SendHeadersAsync(stream.Id, endStream: false, 16_384, H(":status", "200"));

        await peer.SendAsync(w => Http2FrameWriter.WriteData(w, stream.Id, new byte[20_000], endStream: false));

        var goAway = await peer.ExpectAsync(Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.FrameSizeError, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
        await Assert.ThrowsAsync<Http2ConnectionException>(() => stream.ReadAsync(new byte[1]).AsTask().Within());
    }

    [Fact]
    public async Task Receive_window_is_credited_only_as_the_consumer_reads()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(new Http2ClientConnectionOptions { InitialStreamWindowSize = 65_535 });
        var stream = await connection.StartStreamAsync(Get, endStream: true);
        await peer.SendHeadersAsync(stream.Id, endStream: false, 16_384, H(":status", "200"));
        for (var i = 0; i < 4; i++)
        {
            await peer.SendAsync(w => Http2FrameWriter.WriteData(w, stream.Id, new byte[16_000], endStream: false));
        }

        await Eventually.TrueAsync(() => stream.MaxBufferedBytes == 64_000, "the data is buffered");
        // The client answers PING in frame order, so anything caused by the DATA comes before the ACK.
        await peer.SendAsync(w => Http2FrameWriter.WritePing(w, 7, ack: false));
        var earlyUpdate = false;
        await peer.ExpectAsync(h =>
        {
            earlyUpdate |= h.Type == Http2FrameType.WindowUpdate && h.StreamId == stream.Id;
            return h.Type == Http2FrameType.Ping;
        });
        Assert.False(earlyUpdate, "the stream window was credited before anything was read");
        await GrpcWire.ReadExactlyAsync(stream, 40_000);

        // The stream-level update comes only now, after the reader took more than half the window.
        var update = await peer.ExpectAsync(h => h.Type == Http2FrameType.WindowUpdate && h.StreamId == stream.Id);
        Assert.True(BinaryPrimitives.ReadInt32BigEndian(update.Payload) >= 32_768);
    }

    [Fact]
    public async Task A_stream_error_from_the_peer_resets_only_that_stream()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var bad = await connection.StartStreamAsync(Get, endStream: true);
        var good = await connection.StartStreamAsync(Get, endStream: true);

        // DATA before HEADERS is malformed for that stream alone.
        await peer.SendAsync(w => Http2FrameWriter.WriteData(w, bad.Id, [1, 2, 3], endStream: false));
        var reset = await peer.ExpectAsync(h => h.Type == Http2FrameType.RstStream);
        await peer.SendHeadersAsync(good.Id, endStream: true, 16_384, H(":status", "200"));

        Assert.Equal(bad.Id, reset.Header.StreamId);
        Assert.Equal(Http2ErrorCode.ProtocolError, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(reset.Payload));
        await Assert.ThrowsAsync<Http2StreamException>(() => bad.ReadResponseHeadersAsync().Within());
        await good.ReadResponseHeadersAsync().Within();
        Assert.Equal(200, good.StatusCode);
    }

    [Fact]
    public async Task After_a_complete_response_and_RST_STREAM_NO_ERROR_further_request_data_is_dropped_quietly()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var stream = await connection.StartStreamAsync(Get, endStream: false);

        await peer.SendHeadersAsync(stream.Id, endStream: true, 16_384, H(":status", "200"), H("grpc-status", "0"));
        await peer.SendAsync(w => Http2FrameWriter.WriteRstStream(w, stream.Id, Http2ErrorCode.NoError));
        Assert.Equal("0", (await stream.ReadResponseHeadersAsync().Within()).Get("grpc-status"));
        await peer.SendAsync(w => Http2FrameWriter.WritePing(w, 1, ack: false));
        await peer.ExpectAsync(h => h.Type == Http2FrameType.Ping);

        await stream.WriteAsync(new byte[100]).AsTask().Within();
        await stream.CompleteRequestAsync().AsTask().Within();
        Assert.Equal(0, connection.ActiveStreamCount);
    }

    [Theory]
    [InlineData("connection", "close")]
    [InlineData("X-Upper", "1")]
    [InlineData(":path", "/")]
    public async Task A_malformed_response_resets_only_its_stream(string name, string value)
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync();
        var stream = await connection.StartStreamAsync(Get, endStream: true);

        // Built by hand: our encoder would lower-case the name.
        byte[] block = [0x88, 0x00, (byte)name.Length, .. System.Text.Encoding.ASCII.GetBytes(name), (byte)value.Length, .. System.Text.Encoding.ASCII.GetBytes(value)];
        await peer.SendAsync(w => Http2FrameWriter.WriteHeaders(w, stream.Id, block, endStream: false, 16_384));

        var error = await Assert.ThrowsAsync<Http2StreamException>(() => stream.ReadResponseHeadersAsync().Within());
        Assert.Equal(Http2ErrorCode.ProtocolError, error.ErrorCode);
        var reset = await peer.ExpectAsync(Http2FrameType.RstStream);
        Assert.Equal(stream.Id, reset.Header.StreamId);
        Assert.True(connection.IsAvailable);
    }

    [Fact]
    public async Task An_unanswered_keepalive_PING_fails_the_connection()
    {
        await using var peer = new RawHttp2Peer();
        await using var connection = await peer.ConnectClientAsync(new Http2ClientConnectionOptions
        {
            KeepAlivePingInterval = TimeSpan.FromMilliseconds(50),
            KeepAlivePingTimeout = TimeSpan.FromMilliseconds(200),
        });

        var stream = await connection.StartStreamAsync(Get, endStream: true);

        await peer.ExpectAsync(h => h.Type == Http2FrameType.Ping && h.Flags == 0);

        await connection.Completion.Within();
        Assert.False(connection.IsAvailable);
        await Assert.ThrowsAsync<Http2ConnectionException>(() => stream.ReadResponseHeadersAsync().Within());
    }
}
