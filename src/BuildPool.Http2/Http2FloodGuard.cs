namespace BuildPool.Http2;

/// <summary>
/// Bounds the work a peer can cause with frames that carry no progress: PING, SETTINGS,
/// PRIORITY, RST_STREAM, GOAWAY, unknown types and empty DATA or HEADERS/CONTINUATION. Each costs
/// the reader a little and some cost the writer an answer, so a peer sending nothing else could
/// keep the connection busy forever. More than <see cref="Http2ClientConnectionOptions.MaxControlFramesPerSecond"/>
/// such frames in one second, plus one for every HEADERS or DATA frame we sent in that second
/// (grpc-go answers DATA with a bandwidth-probing PING), ends the connection with
/// ENHANCE_YOUR_CALM. Reader loop only, except <see cref="FramesSent"/>.
/// </summary>
internal sealed class Http2FloodGuard(int maxPerSecond, TimeProvider time)
{
    /// <summary>
    /// A header block may span this many frames. Honest peers split a block only at
    /// SETTINGS_MAX_FRAME_SIZE (16 KiB), and the block is capped at twice the header list limit,
    /// so they never come close; a longer chain holds every other stream of the connection hostage.
    /// </summary>
    public const int MaxHeaderBlockFrames = 64;

    private long _windowStart = time.GetTimestamp();
    private int _count;
    private long _sentAtWindowStart;
    private long _framesSent;

    /// <summary>HEADERS and DATA frames written; the writer adds, the reader reads.</summary>
    public long FramesSent => Volatile.Read(ref _framesSent);

    public void OnFramesSent(int count) => Volatile.Write(ref _framesSent, _framesSent + count);

    /// <summary>Counts one frame that made no progress; throws once the peer exceeded its budget.</summary>
    public void Spend(string kind)
    {
        var now = time.GetTimestamp();
        var sent = FramesSent;
        if (time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _windowStart = now;
            _count = 0;
            _sentAtWindowStart = sent;
        }

        if (++_count > maxPerSecond + (sent - _sentAtWindowStart))
        {
            throw new Http2ConnectionException(
                Http2ErrorCode.EnhanceYourCalm,
                $"{kind} flood: the peer sent more than {maxPerSecond} PING, SETTINGS, RST_STREAM, PRIORITY or empty frames in one second (limit --upstream-max-control-frames).");
        }
    }

    public static Http2ConnectionException HeaderBlockTooLong() =>
        new(Http2ErrorCode.EnhanceYourCalm, $"CONTINUATION flood: a header block spread over more than {MaxHeaderBlockFrames} frames.");
}
