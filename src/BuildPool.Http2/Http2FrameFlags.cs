namespace BuildPool.Http2;

internal static class Http2FrameFlags
{
    public const byte None = 0x0;
    public const byte EndStream = 0x1;
    // ACK shares the bit of END_STREAM; it only appears on SETTINGS and PING.
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte Priority = 0x20;
}
