using System.Buffers;
using System.Buffers.Binary;

namespace BuildPool.Http2;

/// <summary>
/// Validates and decodes frame payloads (RFC 9113 section 6). Violations that the RFC calls
/// connection errors throw <see cref="Http2ConnectionException"/>; stream errors throw
/// <see cref="Http2StreamException"/> and leave the connection usable.
/// </summary>
internal static class Http2FrameParser
{
    public const int MaxWindowSize = int.MaxValue;

    /// <summary>The data of a DATA frame without padding.</summary>
    public static ReadOnlySequence<byte> ParseData(in Http2Frame frame)
    {
        RequireStream(frame);
        return StripPadding(frame);
    }

    /// <summary>The field block fragment of a HEADERS frame, without padding and priority.</summary>
    public static ReadOnlySequence<byte> ParseHeaders(in Http2Frame frame)
    {
        RequireStream(frame);
        var payload = StripPadding(frame);
        if (frame.Header.HasFlag(Http2FrameFlags.Priority))
        {
            if (payload.Length < 5)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "HEADERS too short for its priority fields.");
            }

            Span<byte> priority = stackalloc byte[5];
            payload.Slice(0, 5).CopyTo(priority);
            var dependency = (int)(BinaryPrimitives.ReadUInt32BigEndian(priority) & 0x7FFF_FFFF);
            if (dependency == frame.StreamId)
            {
                throw new Http2StreamException(Http2ErrorCode.ProtocolError, "A stream cannot depend on itself.");
            }

            payload = payload.Slice(5);
        }

        return payload;
    }

    public static ReadOnlySequence<byte> ParseContinuation(in Http2Frame frame)
    {
        RequireStream(frame);
        return frame.Payload;
    }

    public static void ParsePriority(in Http2Frame frame)
    {
        RequireStream(frame);
        if (frame.Header.Length != 5)
        {
            throw new Http2StreamException(Http2ErrorCode.FrameSizeError, "PRIORITY payload must be 5 octets.");
        }
    }

    public static Http2ErrorCode ParseRstStream(in Http2Frame frame)
    {
        RequireStream(frame);
        if (frame.Header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "RST_STREAM payload must be 4 octets.");
        }

        return (Http2ErrorCode)ReadUInt32(frame.Payload);
    }

    /// <summary>Calls <paramref name="apply"/> for each parameter; false when the frame is an ACK.</summary>
    public static bool ParseSettings<TState>(in Http2Frame frame, TState state, Action<TState, Http2SettingId, uint> apply)
    {
        RequireConnection(frame);
        if (frame.Header.HasFlag(Http2FrameFlags.Ack))
        {
            if (frame.Header.Length != 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS ACK must be empty.");
            }

            return false;
        }

        if (frame.Header.Length % 6 != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS length must be a multiple of 6.");
        }

        var reader = new SequenceReader<byte>(frame.Payload);
        while (reader.TryReadBigEndian(out short rawId) && reader.TryReadBigEndian(out int rawValue))
        {
            var id = (Http2SettingId)(ushort)rawId;
            var value = (uint)rawValue;
            switch (id)
            {
                case Http2SettingId.EnablePush when value > 1:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH must be 0 or 1.");
                case Http2SettingId.InitialWindowSize when value > MaxWindowSize:
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1.");
                case Http2SettingId.MaxFrameSize when value < Http2FrameHeader.DefaultMaxFrameSize || value > Http2FrameHeader.MaxAllowedFrameSize:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "SETTINGS_MAX_FRAME_SIZE out of range.");
            }

            // Unknown identifiers MUST be ignored, so they are passed on and dropped by the caller.
            apply(state, id, value);
        }

        return true;
    }

    public static ulong ParsePing(in Http2Frame frame)
    {
        RequireConnection(frame);
        if (frame.Header.Length != 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "PING payload must be 8 octets.");
        }

        Span<byte> data = stackalloc byte[8];
        frame.Payload.CopyTo(data);
        return BinaryPrimitives.ReadUInt64BigEndian(data);
    }

    public static (int LastStreamId, Http2ErrorCode ErrorCode) ParseGoAway(in Http2Frame frame)
    {
        RequireConnection(frame);
        if (frame.Header.Length < 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "GOAWAY payload must be at least 8 octets.");
        }

        Span<byte> data = stackalloc byte[8];
        frame.Payload.Slice(0, 8).CopyTo(data);
        var lastStreamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(data) & 0x7FFF_FFFF);
        return (lastStreamId, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
    }

    public static int ParseWindowUpdate(in Http2Frame frame)
    {
        if (frame.Header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "WINDOW_UPDATE payload must be 4 octets.");
        }

        var increment = (int)(ReadUInt32(frame.Payload) & 0x7FFF_FFFF);
        if (increment == 0)
        {
            if (frame.StreamId == 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE with a zero increment.");
            }

            throw new Http2StreamException(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE with a zero increment.");
        }

        return increment;
    }

    private static ReadOnlySequence<byte> StripPadding(in Http2Frame frame)
    {
        var payload = frame.Payload;
        if (!frame.Header.HasFlag(Http2FrameFlags.Padded))
        {
            return payload;
        }

        if (payload.Length < 1)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "Padded frame without a pad length.");
        }

        var padLength = payload.FirstSpan[0];
        if (padLength >= payload.Length)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "Padding is as long as the frame payload.");
        }

        return payload.Slice(1, payload.Length - 1 - padLength);
    }

    private static void RequireStream(in Http2Frame frame)
    {
        if (frame.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{frame.Type} frame on stream 0.");
        }
    }

    private static void RequireConnection(in Http2Frame frame)
    {
        if (frame.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{frame.Type} frame on stream {frame.StreamId}.");
        }
    }

    private static uint ReadUInt32(ReadOnlySequence<byte> payload)
    {
        Span<byte> data = stackalloc byte[4];
        payload.Slice(0, 4).CopyTo(data);
        return BinaryPrimitives.ReadUInt32BigEndian(data);
    }
}
