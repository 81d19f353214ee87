using System.Buffers;
using System.Buffers.Binary;

namespace BuildPool.Http2;

/// <summary>Serialises frames into a buffer writer; the caller owns ordering and flushing.</summary>
internal static class Http2FrameWriter
{
    public static ReadOnlySpan<byte> ClientPreface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public static void WriteHeader(IBufferWriter<byte> output, int length, Http2FrameType type, byte flags, int streamId)
    {
        new Http2FrameHeader(length, type, flags, streamId).Write(output.GetSpan(Http2FrameHeader.Size));
        output.Advance(Http2FrameHeader.Size);
    }

    public static void WriteData(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> data, bool endStream, int padLength = 0)
    {
        var flags = endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None;
        if (padLength > 0)
        {
            WriteHeader(output, 1 + data.Length + padLength, Http2FrameType.Data, (byte)(flags | Http2FrameFlags.Padded), streamId);
            WriteByte(output, (byte)padLength);
            output.Write(data);
            WriteZeros(output, padLength);
            return;
        }

        WriteHeader(output, data.Length, Http2FrameType.Data, flags, streamId);
        output.Write(data);
    }

    /// <summary>
    /// Writes a field block as one HEADERS frame followed by as many CONTINUATION frames as
    /// <paramref name="maxFrameSize"/> requires. Nothing else may be written in between, which
    /// holds because only the connection's writer loop calls this.
    /// </summary>
    public static void WriteHeaders(
        IBufferWriter<byte> output,
        int streamId,
        ReadOnlySpan<byte> fieldBlock,
        bool endStream,
        int maxFrameSize,
        int padLength = 0,
        bool withPriority = false)
    {
        var overhead = (padLength > 0 ? 1 + padLength : 0) + (withPriority ? 5 : 0);
        var first = Math.Min(fieldBlock.Length, maxFrameSize - overhead);
        var flags = endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None;
        if (first == fieldBlock.Length)
        {
            flags |= Http2FrameFlags.EndHeaders;
        }

        if (padLength > 0)
        {
            flags |= Http2FrameFlags.Padded;
        }

        if (withPriority)
        {
            flags |= Http2FrameFlags.Priority;
        }

        WriteHeader(output, first + overhead, Http2FrameType.Headers, flags, streamId);
        if (padLength > 0)
        {
            WriteByte(output, (byte)padLength);
        }

        if (withPriority)
        {
            // Exclusive=0, depends on stream 0, weight 16 (encoded 15): the RFC default.
            Span<byte> priority = [0, 0, 0, 0, 15];
            output.Write(priority);
        }

        output.Write(fieldBlock[..first]);
        WriteZeros(output, padLength);

        var rest = fieldBlock[first..];
        while (!rest.IsEmpty)
        {
            var chunk = Math.Min(rest.Length, maxFrameSize);
            var last = chunk == rest.Length;
            WriteHeader(output, chunk, Http2FrameType.Continuation, last ? Http2FrameFlags.EndHeaders : Http2FrameFlags.None, streamId);
            output.Write(rest[..chunk]);
            rest = rest[chunk..];
        }
    }

    public static void WritePriority(IBufferWriter<byte> output, int streamId, int dependency, byte weight)
    {
        WriteHeader(output, 5, Http2FrameType.Priority, Http2FrameFlags.None, streamId);
        var span = output.GetSpan(5);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)dependency);
        span[4] = weight;
        output.Advance(5);
    }

    public static void WriteRstStream(IBufferWriter<byte> output, int streamId, Http2ErrorCode errorCode)
    {
        WriteHeader(output, 4, Http2FrameType.RstStream, Http2FrameFlags.None, streamId);
        WriteUInt32(output, (uint)errorCode);
    }

    public static void WriteSettings(IBufferWriter<byte> output, ReadOnlySpan<(Http2SettingId Id, uint Value)> settings)
    {
        WriteHeader(output, settings.Length * 6, Http2FrameType.Settings, Http2FrameFlags.None, 0);
        foreach (var (id, value) in settings)
        {
            var span = output.GetSpan(6);
            BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)id);
            BinaryPrimitives.WriteUInt32BigEndian(span[2..], value);
            output.Advance(6);
        }
    }

    public static void WriteSettingsAck(IBufferWriter<byte> output) =>
        WriteHeader(output, 0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0);

    public static void WritePushPromise(IBufferWriter<byte> output, int streamId, int promisedStreamId, ReadOnlySpan<byte> fieldBlock)
    {
        WriteHeader(output, 4 + fieldBlock.Length, Http2FrameType.PushPromise, Http2FrameFlags.EndHeaders, streamId);
        WriteUInt32(output, (uint)promisedStreamId);
        output.Write(fieldBlock);
    }

    public static void WritePing(IBufferWriter<byte> output, ulong opaqueData, bool ack)
    {
        WriteHeader(output, 8, Http2FrameType.Ping, ack ? Http2FrameFlags.Ack : Http2FrameFlags.None, 0);
        BinaryPrimitives.WriteUInt64BigEndian(output.GetSpan(8), opaqueData);
        output.Advance(8);
    }

    public static void WriteGoAway(IBufferWriter<byte> output, int lastStreamId, Http2ErrorCode errorCode, ReadOnlySpan<byte> debugData = default)
    {
        WriteHeader(output, 8 + debugData.Length, Http2FrameType.GoAway, Http2FrameFlags.None, 0);
        WriteUInt32(output, (uint)lastStreamId);
        WriteUInt32(output, (uint)errorCode);
        output.Write(debugData);
    }

    public static void WriteWindowUpdate(IBufferWriter<byte> output, int streamId, int increment)
    {
        WriteHeader(output, 4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, streamId);
        WriteUInt32(output, (uint)increment);
    }

    private static void WriteUInt32(IBufferWriter<byte> output, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteZeros(IBufferWriter<byte> output, int count)
    {
        if (count > 0)
        {
            output.GetSpan(count)[..count].Clear();
            output.Advance(count);
        }
    }
}
