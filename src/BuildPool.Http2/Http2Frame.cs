using System.Buffers;

namespace BuildPool.Http2;

/// <summary>A received frame; the payload is only valid until the reader advances.</summary>
internal readonly record struct Http2Frame(Http2FrameHeader Header, ReadOnlySequence<byte> Payload)
{
    public Http2FrameType Type => Header.Type;
    public int StreamId => Header.StreamId;
    public byte Flags => Header.Flags;
}
