namespace BuildPool.Http2;

/// <summary>
/// The response bytes that all connections sharing it may buffer together. Each connection
/// reserves its receive window (beyond the 65,535 octets HTTP/2 grants every connection) from
/// the budget when it opens and returns it when it closes: the peers can never send more than
/// the windows they were granted, so what is buffered stays within the budget. A connection that
/// opens while the budget is spent starts with the protocol's window and takes more as other
/// connections return theirs.
/// </summary>
public sealed class Http2ReceiveBudget
{
    private readonly Lock _lock = new();
    private long _reserved;
    private long _buffered;
    private long _maxBuffered;

    public Http2ReceiveBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    /// <summary>The most window all connections may reserve together, in octets.</summary>
    public long Capacity { get; }

    /// <summary>Window reserved by open connections now.</summary>
    public long Reserved
    {
        get
        {
            lock (_lock)
            {
                return _reserved;
            }
        }
    }

    /// <summary>Response bytes received and not yet read by their consumers, over all connections.</summary>
    public long BufferedBytes => Interlocked.Read(ref _buffered);

    /// <summary>The most <see cref="BufferedBytes"/> ever was.</summary>
    public long MaxBufferedBytes => Interlocked.Read(ref _maxBuffered);

    /// <summary>Reserves up to <paramref name="wanted"/> octets; returns how many it got (0 when the budget is spent).</summary>
    internal int Reserve(int wanted)
    {
        lock (_lock)
        {
            var granted = (int)Math.Clamp(Capacity - _reserved, 0, wanted);
            _reserved += granted;
            return granted;
        }
    }

    internal void Release(int amount)
    {
        lock (_lock)
        {
            _reserved -= amount;
        }
    }

    internal void OnBuffered(long count)
    {
        var now = Interlocked.Add(ref _buffered, count);
        if (count > 0)
        {
            var max = Interlocked.Read(ref _maxBuffered);
            while (now > max && Interlocked.CompareExchange(ref _maxBuffered, now, max) != max)
            {
                max = Interlocked.Read(ref _maxBuffered);
            }
        }
    }
}
