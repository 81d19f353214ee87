using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using BuildPool.Http2;

namespace BuildPool.TestDoubles;

/// <summary>
/// Bytes a <see cref="HostileBuilder"/> can send: well-formed frames to build attacks from,
/// gRPC answers, floods, HPACK bombs and frames whose header lies about their payload.
/// </summary>
public static class HostileFrames
{
    /// <summary>A frame header followed by <paramref name="payload"/>; <paramref name="length"/> may lie.</summary>
    public static byte[] Frame(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload, int? length = null)
    {
        var bytes = new byte[9 + payload.Length];
        var declared = length ?? payload.Length;
        bytes[0] = (byte)(declared >> 16);
        bytes[1] = (byte)(declared >> 8);
        bytes[2] = (byte)declared;
        bytes[3] = type;
        bytes[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(5), streamId);
        payload.CopyTo(bytes.AsSpan(9));
        return bytes;
    }

    public static byte[] ServerSettings(params (ushort Id, uint Value)[] settings)
    {
        var payload = new byte[settings.Length * 6];
        for (var i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(i * 6), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((i * 6) + 2), settings[i].Value);
        }

        return Frame((byte)Http2FrameType.Settings, 0, 0, payload);
    }

    public static byte[] SettingsAck() => Frame((byte)Http2FrameType.Settings, Http2FrameFlags.Ack, 0, []);

    public static byte[] PingFrame(ulong payload, bool ack = false)
    {
        Span<byte> data = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(data, payload);
        return Frame((byte)Http2FrameType.Ping, ack ? Http2FrameFlags.Ack : Http2FrameFlags.None, 0, data);
    }

    public static byte[] DataFrame(int streamId, ReadOnlySpan<byte> data, bool endStream = false) =>
        Frame((byte)Http2FrameType.Data, endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None, streamId, data);

    public static byte[] RstStreamFrame(int streamId, uint errorCode)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, errorCode);
        return Frame((byte)Http2FrameType.RstStream, 0, streamId, data);
    }

    public static byte[] GoAwayFrame(int lastStreamId, uint errorCode)
    {
        Span<byte> data = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(data, lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(data[4..], errorCode);
        return Frame((byte)Http2FrameType.GoAway, 0, 0, data);
    }

    public static byte[] WindowUpdateFrame(int streamId, uint increment)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, increment);
        return Frame((byte)Http2FrameType.WindowUpdate, 0, streamId, data);
    }

    /// <summary>One HEADERS frame (END_HEADERS) carrying <paramref name="fields"/>, HPACK-encoded without Huffman.</summary>
    public static byte[] HeadersFrame(int streamId, bool endStream, params (string Name, string Value)[] fields) =>
        Frame((byte)Http2FrameType.Headers, (byte)(Http2FrameFlags.EndHeaders | (endStream ? Http2FrameFlags.EndStream : 0)), streamId, Encode(fields));

    /// <summary>The HPACK block of <paramref name="fields"/>.</summary>
    public static byte[] Encode(params (string Name, string Value)[] fields)
    {
        var block = new ArrayBufferWriter<byte>();
        new HpackEncoder(useHuffman: false).Encode(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).ToList(), block);
        return block.WrittenSpan.ToArray();
    }

    /// <summary>A whole gRPC answer: response headers, one message, OK trailers.</summary>
    public static byte[] GrpcResponse(int streamId, ReadOnlySpan<byte> message) =>
        [
            .. HeadersFrame(streamId, false, (":status", "200"), ("content-type", "application/grpc")),
            .. DataFrame(streamId, GrpcMessage(message)),
            .. HeadersFrame(streamId, true, ("grpc-status", "0")),
        ];

    /// <summary>A trailers-only gRPC error.</summary>
    public static byte[] GrpcError(int streamId, int status, string message) =>
        HeadersFrame(streamId, true, (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("grpc-message", message));

    public static byte[] GrpcMessage(ReadOnlySpan<byte> message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        return framed;
    }

    /// <summary><paramref name="frame"/> <paramref name="count"/> times in one buffer.</summary>
    public static byte[] Flood(byte[] frame, int count)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var bytes = new byte[frame.Length * count];
        for (var i = 0; i < count; i++)
        {
            frame.CopyTo(bytes, i * frame.Length);
        }

        return bytes;
    }

    /// <summary>
    /// An HPACK bomb: a block that puts one large value in the dynamic table and then names it
    /// <paramref name="references"/> times at one octet each, so a few KiB decode to megabytes.
    /// </summary>
    public static byte[] HpackBomb(int streamId, int valueLength = 4_000, int references = 10_000)
    {
        var block = new List<byte> { 0x40 };
        AddString(block, "x-bomb");
        AddString(block, new string('b', valueLength));
        for (var i = 0; i < references; i++)
        {
            // Indexed field 62: the first dynamic table entry.
            block.Add(0x80 | 62);
        }

        return Frame((byte)Http2FrameType.Headers, Http2FrameFlags.EndHeaders, streamId, block.ToArray());
    }

    /// <summary>An HPACK integer with an <paramref name="prefixBits"/>-bit prefix (RFC 7541 5.1).</summary>
    public static void AddInteger(List<byte> block, int value, int prefixBits, byte firstByteFlags = 0)
    {
        ArgumentNullException.ThrowIfNull(block);
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)(firstByteFlags | value));
            return;
        }

        block.Add((byte)(firstByteFlags | max));
        value -= max;
        while (value >= 0x80)
        {
            block.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }

        block.Add((byte)value);
    }

    private static void AddString(List<byte> block, string value)
    {
        AddInteger(block, value.Length, 7);
        block.AddRange(Encoding.Latin1.GetBytes(value));
    }
}
