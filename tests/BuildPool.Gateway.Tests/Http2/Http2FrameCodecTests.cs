using System.Buffers;
using System.IO.Pipelines;
using BuildPool.Http2;

namespace BuildPool.Gateway.Tests.Http2;

public class Http2FrameCodecTests
{
    private static async Task<List<(Http2FrameHeader Header, byte[] Payload)>> ReadAllAsync(byte[] wire, int maxFrameSize = 16_384)
    {
        var reader = new Http2FrameReader(PipeReader.Create(new ReadOnlySequence<byte>(wire))) { MaxFrameSize = maxFrameSize };
        var frames = new List<(Http2FrameHeader, byte[])>();
        while (await reader.ReadFrameAsync(CancellationToken.None))
        {
            frames.Add((reader.Current.Header, reader.Current.Payload.ToArray()));
        }

        return frames;
    }

    private static Http2Frame Frame(Http2FrameType type, byte flags, int streamId, params byte[] payload) =>
        new(new Http2FrameHeader(payload.Length, type, flags, streamId), new ReadOnlySequence<byte>(payload));

    [Fact]
    public void Frame_header_round_trips_and_ignores_the_reserved_bit()
    {
        Span<byte> bytes = stackalloc byte[9];
        new Http2FrameHeader(0x123456, Http2FrameType.Headers, 0x25, 0x7FFF_FFFF).Write(bytes);
        Assert.Equal(new byte[] { 0x12, 0x34, 0x56, 0x01, 0x25, 0x7F, 0xFF, 0xFF, 0xFF }, bytes.ToArray());

        bytes[5] |= 0x80;
        var header = Http2FrameHeader.Read(bytes);
        Assert.Equal(new Http2FrameHeader(0x123456, Http2FrameType.Headers, 0x25, 0x7FFF_FFFF), header);
    }

    [Fact]
    public async Task Every_frame_type_round_trips_through_writer_and_reader()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteData(output, 1, "hello"u8, endStream: true);
        Http2FrameWriter.WriteData(output, 3, "padded"u8, endStream: false, padLength: 7);
        Http2FrameWriter.WriteHeaders(output, 5, [1, 2, 3], endStream: true, maxFrameSize: 16_384, padLength: 2, withPriority: true);
        Http2FrameWriter.WritePriority(output, 7, 5, 200);
        Http2FrameWriter.WriteRstStream(output, 9, Http2ErrorCode.Cancel);
        Http2FrameWriter.WriteSettings(output, [(Http2SettingId.MaxConcurrentStreams, 100), (Http2SettingId.InitialWindowSize, 1 << 20)]);
        Http2FrameWriter.WriteSettingsAck(output);
        Http2FrameWriter.WritePushPromise(output, 1, 2, [9, 9]);
        Http2FrameWriter.WritePing(output, 0x0102030405060708, ack: true);
        Http2FrameWriter.WriteGoAway(output, 41, Http2ErrorCode.EnhanceYourCalm, "bye"u8);
        Http2FrameWriter.WriteWindowUpdate(output, 0, 1_000_000);

        var frames = await ReadAllAsync(output.WrittenSpan.ToArray());
        Assert.Equal(11, frames.Count);

        var data = Frame(frames[0].Header.Type, frames[0].Header.Flags, frames[0].Header.StreamId, frames[0].Payload);
        Assert.Equal("hello"u8.ToArray(), Http2FrameParser.ParseData(data).ToArray());
        Assert.True(frames[0].Header.HasFlag(Http2FrameFlags.EndStream));

        var padded = Frame(Http2FrameType.Data, frames[1].Header.Flags, 3, frames[1].Payload);
        Assert.Equal(1 + 6 + 7, frames[1].Header.Length);
        Assert.Equal("padded"u8.ToArray(), Http2FrameParser.ParseData(padded).ToArray());

        var headers = Frame(Http2FrameType.Headers, frames[2].Header.Flags, 5, frames[2].Payload);
        Assert.Equal(Http2FrameFlags.EndStream | Http2FrameFlags.EndHeaders | Http2FrameFlags.Padded | Http2FrameFlags.Priority, frames[2].Header.Flags);
        Assert.Equal(new byte[] { 1, 2, 3 }, Http2FrameParser.ParseHeaders(headers).ToArray());

        Http2FrameParser.ParsePriority(Frame(Http2FrameType.Priority, 0, 7, frames[3].Payload));
        Assert.Equal(Http2ErrorCode.Cancel, Http2FrameParser.ParseRstStream(Frame(Http2FrameType.RstStream, 0, 9, frames[4].Payload)));

        var settings = new List<(Http2SettingId, uint)>();
        Assert.True(Http2FrameParser.ParseSettings(Frame(Http2FrameType.Settings, 0, 0, frames[5].Payload), settings, static (list, id, value) => list.Add((id, value))));
        Assert.Equal([(Http2SettingId.MaxConcurrentStreams, 100u), (Http2SettingId.InitialWindowSize, 1u << 20)], settings);
        Assert.False(Http2FrameParser.ParseSettings(Frame(Http2FrameType.Settings, Http2FrameFlags.Ack, 0), settings, static (_, _, _) => { }));

        Assert.Equal(Http2FrameType.PushPromise, frames[7].Header.Type);
        Assert.Equal(0x0102030405060708UL, Http2FrameParser.ParsePing(Frame(Http2FrameType.Ping, Http2FrameFlags.Ack, 0, frames[8].Payload)));
        Assert.Equal((41, Http2ErrorCode.EnhanceYourCalm), Http2FrameParser.ParseGoAway(Frame(Http2FrameType.GoAway, 0, 0, frames[9].Payload)));
        Assert.Equal(1_000_000, Http2FrameParser.ParseWindowUpdate(Frame(Http2FrameType.WindowUpdate, 0, 0, frames[10].Payload)));
    }

    [Fact]
    public async Task A_large_header_block_is_split_into_HEADERS_and_CONTINUATION_frames()
    {
        var block = Enumerable.Range(0, 40_000).Select(i => (byte)i).ToArray();
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteHeaders(output, 1, block, endStream: true, maxFrameSize: 16_384);

        var frames = await ReadAllAsync(output.WrittenSpan.ToArray());

        Assert.Equal([Http2FrameType.Headers, Http2FrameType.Continuation, Http2FrameType.Continuation], frames.Select(f => f.Header.Type));
        Assert.Equal(Http2FrameFlags.EndStream, frames[0].Header.Flags);
        Assert.Equal(Http2FrameFlags.None, frames[1].Header.Flags);
        Assert.Equal(Http2FrameFlags.EndHeaders, frames[2].Header.Flags);
        Assert.Equal(block, frames.SelectMany(f => f.Payload).ToArray());
    }

    [Fact]
    public async Task A_frame_larger_than_SETTINGS_MAX_FRAME_SIZE_is_a_FRAME_SIZE_ERROR()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteData(output, 1, new byte[16_385], endStream: false);

        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => ReadAllAsync(output.WrittenSpan.ToArray()));
        Assert.Equal(Http2ErrorCode.FrameSizeError, error.ErrorCode);
    }

    [Fact]
    public async Task Input_ending_inside_a_frame_is_a_protocol_error()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteData(output, 1, new byte[100], endStream: false);

        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => ReadAllAsync(output.WrittenSpan[..50].ToArray()));
        Assert.Equal(Http2ErrorCode.ProtocolError, error.ErrorCode);
    }

    public static TheoryData<string, byte, byte, int, byte[], Http2ErrorCode> MalformedConnectionFrames => new()
    {
        { "DATA on stream 0", (byte)Http2FrameType.Data, 0, 0, [1], Http2ErrorCode.ProtocolError },
        { "padding as long as the payload", (byte)Http2FrameType.Data, Http2FrameFlags.Padded, 1, [3, 0, 0], Http2ErrorCode.ProtocolError },
        { "HEADERS on stream 0", (byte)Http2FrameType.Headers, Http2FrameFlags.EndHeaders, 0, [0x82], Http2ErrorCode.ProtocolError },
        { "SETTINGS on a stream", (byte)Http2FrameType.Settings, 0, 1, [], Http2ErrorCode.ProtocolError },
        { "SETTINGS not a multiple of 6", (byte)Http2FrameType.Settings, 0, 0, [0, 1, 0, 0, 0], Http2ErrorCode.FrameSizeError },
        { "SETTINGS ACK with payload", (byte)Http2FrameType.Settings, Http2FrameFlags.Ack, 0, [0, 1, 0, 0, 0, 0], Http2ErrorCode.FrameSizeError },
        { "ENABLE_PUSH of 2", (byte)Http2FrameType.Settings, 0, 0, [0, 2, 0, 0, 0, 2], Http2ErrorCode.ProtocolError },
        { "INITIAL_WINDOW_SIZE above 2^31-1", (byte)Http2FrameType.Settings, 0, 0, [0, 4, 0x80, 0, 0, 0], Http2ErrorCode.FlowControlError },
        { "MAX_FRAME_SIZE below 16384", (byte)Http2FrameType.Settings, 0, 0, [0, 5, 0, 0, 0x10, 0], Http2ErrorCode.ProtocolError },
        { "PING of 7 octets", (byte)Http2FrameType.Ping, 0, 0, [1, 2, 3, 4, 5, 6, 7], Http2ErrorCode.FrameSizeError },
        { "PING on a stream", (byte)Http2FrameType.Ping, 0, 3, [1, 2, 3, 4, 5, 6, 7, 8], Http2ErrorCode.ProtocolError },
        { "GOAWAY too short", (byte)Http2FrameType.GoAway, 0, 0, [0, 0, 0, 1], Http2ErrorCode.FrameSizeError },
        { "RST_STREAM of 3 octets", (byte)Http2FrameType.RstStream, 0, 1, [0, 0, 8], Http2ErrorCode.FrameSizeError },
        { "WINDOW_UPDATE of 0 on the connection", (byte)Http2FrameType.WindowUpdate, 0, 0, [0, 0, 0, 0], Http2ErrorCode.ProtocolError },
        { "WINDOW_UPDATE of 5 octets", (byte)Http2FrameType.WindowUpdate, 0, 1, [0, 0, 0, 0, 1], Http2ErrorCode.FrameSizeError },
    };

    [Theory]
    [MemberData(nameof(MalformedConnectionFrames))]
    public void Malformed_frames_are_connection_errors_with_the_RFC_error_code(string because, byte type, byte flags, int streamId, byte[] payload, Http2ErrorCode expected)
    {
        var frame = Frame((Http2FrameType)type, flags, streamId, payload);
        var error = Assert.Throws<Http2ConnectionException>(() => Parse(frame));
        Assert.True(expected == error.ErrorCode, because);
    }

    [Fact]
    public void Stream_scoped_violations_are_stream_errors()
    {
        Assert.Equal(Http2ErrorCode.ProtocolError, Assert.Throws<Http2StreamException>(() => Parse(Frame(Http2FrameType.WindowUpdate, 0, 1, 0, 0, 0, 0))).ErrorCode);
        Assert.Equal(Http2ErrorCode.FrameSizeError, Assert.Throws<Http2StreamException>(() => Parse(Frame(Http2FrameType.Priority, 0, 1, 0, 0, 0, 1))).ErrorCode);
        Assert.Equal(Http2ErrorCode.ProtocolError, Assert.Throws<Http2StreamException>(() => Parse(Frame(Http2FrameType.Headers, Http2FrameFlags.Priority, 3, 0, 0, 0, 3, 16))).ErrorCode);
    }

    private static void Parse(Http2Frame frame)
    {
        switch (frame.Type)
        {
            case Http2FrameType.Data: Http2FrameParser.ParseData(frame); break;
            case Http2FrameType.Headers: Http2FrameParser.ParseHeaders(frame); break;
            case Http2FrameType.Priority: Http2FrameParser.ParsePriority(frame); break;
            case Http2FrameType.RstStream: Http2FrameParser.ParseRstStream(frame); break;
            case Http2FrameType.Settings: Http2FrameParser.ParseSettings(frame, 0, static (_, _, _) => { }); break;
            case Http2FrameType.Ping: Http2FrameParser.ParsePing(frame); break;
            case Http2FrameType.GoAway: Http2FrameParser.ParseGoAway(frame); break;
            case Http2FrameType.WindowUpdate: Http2FrameParser.ParseWindowUpdate(frame); break;
            default: throw new ArgumentOutOfRangeException(nameof(frame));
        }
    }
}
