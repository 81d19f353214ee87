namespace BuildPool.Http2;

/// <summary>Settings of one client connection.</summary>
public sealed class Http2ClientConnectionOptions
{
    /// <summary>
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce: how much response data the peer may send on one
    /// stream before our consumer reads it, so the most one stream buffers. The window is credited
    /// back only as the consumer reads. At least 65,535 (the protocol default).
    /// </summary>
    public int InitialStreamWindowSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Connection receive window, raised from 65,535 with a WINDOW_UPDATE right after the preface:
    /// the most all streams of the connection buffer together. Credited back as each stream's data
    /// is read (or dropped with its stream), so a stream nobody reads keeps only its own window of
    /// it; make it several times <see cref="InitialStreamWindowSize"/> so that a few such streams
    /// cannot starve the others.
    /// </summary>
    public int InitialConnectionWindowSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Shared by connections whose buffered bytes together must stay bounded: each reserves its
    /// connection window from it. Null: no bound beyond each connection's own window.
    /// </summary>
    public Http2ReceiveBudget? ReceiveBudget { get; set; }

    /// <summary>SETTINGS_MAX_FRAME_SIZE we accept.</summary>
    public int MaxFrameSize { get; set; } = 16_384;

    /// <summary>SETTINGS_HEADER_TABLE_SIZE: the peer's encoder may use this much dynamic table.</summary>
    public int HeaderTableSize { get; set; } = HpackDecoder.DefaultTableSize;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE; a larger response header list fails only its stream.</summary>
    public int MaxHeaderListSize { get; set; } = HpackDecoder.DefaultMaxHeaderListSize;

    /// <summary>Huffman-code header strings when that makes them shorter.</summary>
    public bool UseHuffman { get; set; } = true;

    /// <summary>
    /// While streams are open, send a PING after this long without any frame from the peer, so a
    /// peer that stopped (a lost node, a frozen process) fails its streams instead of holding them
    /// until TCP gives up (about 15 minutes); infinite disables keepalive.
    /// </summary>
    public TimeSpan KeepAlivePingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a keepalive PING may go unanswered before the connection is failed.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// PING, SETTINGS, RST_STREAM, PRIORITY, GOAWAY, unknown and empty frames the peer may send in
    /// one second (plus one per HEADERS or DATA frame sent to it); more ends the connection with
    /// ENHANCE_YOUR_CALM. Honest gRPC servers send a handful.
    /// </summary>
    public int MaxControlFramesPerSecond { get; set; } = 1000;

    /// <summary>
    /// PING and SETTINGS acknowledgements and RST_STREAM frames that may wait unsent because the
    /// peer does not read them; more ends the connection with ENHANCE_YOUR_CALM.
    /// </summary>
    public int MaxQueuedControlFrames { get; set; } = 1024;

    /// <summary>How long to wait for the peer's SETTINGS after sending the preface.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A copy to change without touching options other pools or connections use.</summary>
    public Http2ClientConnectionOptions Clone() => (Http2ClientConnectionOptions)MemberwiseClone();

    internal void Validate()
    {
        const int DefaultWindow = 65_535;
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialStreamWindowSize, DefaultWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialConnectionWindowSize, DefaultWindow);
        // A smaller connection window would let one unread stream stop every other stream.
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialConnectionWindowSize, 2L * InitialStreamWindowSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameSize, Http2FrameHeader.DefaultMaxFrameSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFrameSize, Http2FrameHeader.MaxAllowedFrameSize);
        ArgumentOutOfRangeException.ThrowIfNegative(HeaderTableSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderListSize, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxControlFramesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedControlFrames, 1);
        if (KeepAlivePingInterval != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAlivePingInterval, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAlivePingTimeout, TimeSpan.Zero);
        }
    }
}
