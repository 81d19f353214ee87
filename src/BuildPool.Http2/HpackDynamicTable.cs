namespace BuildPool.Http2;

/// <summary>The decoder's dynamic table (RFC 7541 section 2.3.2 and 4): newest entry first, FIFO eviction.</summary>
internal sealed class HpackDynamicTable(int maxSize)
{
    public const int EntryOverhead = 32;

    private KeyValuePair<string, string>[] _ring = new KeyValuePair<string, string>[16];
    private int _start;

    public int Count { get; private set; }

    /// <summary>Current size in octets as RFC 7541 counts it (name + value + 32 per entry).</summary>
    public int Size { get; private set; }

    public int MaxSize { get; private set; } = maxSize;

    /// <summary>1-based, 1 = most recently inserted.</summary>
    public KeyValuePair<string, string> this[int index]
    {
        get
        {
            if (index < 1 || index > Count)
            {
                throw new HpackException($"Dynamic table index {index} out of range.");
            }

            return _ring[(_start + Count - index) % _ring.Length];
        }
    }

    public static int EntrySize(string name, string value) => name.Length + value.Length + EntryOverhead;

    public void Insert(string name, string value)
    {
        var size = EntrySize(name, value);
        // An entry larger than the table empties it and is not added (RFC 7541 4.4).
        EvictTo(MaxSize - size);
        if (size > MaxSize)
        {
            return;
        }

        if (Count == _ring.Length)
        {
            Grow();
        }

        _ring[(_start + Count) % _ring.Length] = new(name, value);
        Count++;
        Size += size;
    }

    public void Resize(int maxSize)
    {
        MaxSize = maxSize;
        EvictTo(maxSize);
    }

    private void EvictTo(int target)
    {
        while (Count > 0 && Size > Math.Max(target, 0))
        {
            var oldest = _ring[_start];
            _ring[_start] = default;
            _start = (_start + 1) % _ring.Length;
            Count--;
            Size -= EntrySize(oldest.Key, oldest.Value);
        }
    }

    private void Grow()
    {
        var bigger = new KeyValuePair<string, string>[_ring.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            bigger[i] = _ring[(_start + i) % _ring.Length];
        }

        _ring = bigger;
        _start = 0;
    }
}
