namespace BuildPool.Http2;

/// <summary>Settings of one client connection.</summary>
public sealed class Http2ClientConnectionOptions
{
    /// <summary>
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce: how much response data the peer may send on one
    /// stream before our consumer reads it. Large so a single stream is not latency bound; it is
    /// also the most one stream buffers. At least 65,535 (the protocol default).
    /// </summary>
    public int InitialStreamWindowSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Connection receive window, raised from 65,535 with a WINDOW_UPDATE right after the preface.</summary>
    public int InitialConnectionWindowSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>SETTINGS_MAX_FRAME_SIZE we accept.</summary>
    public int MaxFrameSize { get; set; } = 16_384;

    /// <summary>SETTINGS_HEADER_TABLE_SIZE: the peer's encoder may use this much dynamic table.</summary>
    public int HeaderTableSize { get; set; } = HpackDecoder.DefaultTableSize;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE; a larger response header list fails only its stream.</summary>
    public int MaxHeaderListSize { get; set; } = HpackDecoder.DefaultMaxHeaderListSize;

    /// <summary>Huffman-code header strings when that makes them shorter.</summary>
    public bool UseHuffman { get; set; } = true;

    /// <summary>Send a PING this often to detect dead peers; infinite disables keepalive.</summary>
    public TimeSpan KeepAlivePingInterval { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>How long a keepalive PING may go unanswered before the connection is failed.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long to wait for the peer's SETTINGS after sending the preface.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        const int DefaultWindow = 65_535;
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialStreamWindowSize, DefaultWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialConnectionWindowSize, DefaultWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameSize, Http2FrameHeader.DefaultMaxFrameSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFrameSize, Http2FrameHeader.MaxAllowedFrameSize);
        ArgumentOutOfRangeException.ThrowIfNegative(HeaderTableSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderListSize, 1024);
    }
}
