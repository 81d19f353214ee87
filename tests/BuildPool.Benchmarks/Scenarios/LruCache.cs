namespace BuildPool.Benchmarks.Scenarios;

/// <summary>A fixed-capacity LRU set of layer ids (a builder's cache volume), array-backed to keep the simulation fast.</summary>
internal sealed class LruCache
{
    private readonly Dictionary<long, int> _slots;
    private readonly long[] _keys;
    private readonly int[] _prev;
    private readonly int[] _next;
    private int _head = -1;
    private int _tail = -1;
    private int _count;

    public LruCache(int capacity)
    {
        _slots = new Dictionary<long, int>(capacity);
        _keys = new long[capacity];
        _prev = new int[capacity];
        _next = new int[capacity];
    }

    /// <summary>Uses a layer: true if it was cached (and is now the most recent), false if it was built and stored.</summary>
    public bool Touch(long layer)
    {
        if (_slots.TryGetValue(layer, out var slot))
        {
            Unlink(slot);
            PushFront(slot);
            return true;
        }

        if (_count < _keys.Length)
        {
            slot = _count++;
        }
        else
        {
            slot = _tail;
            Unlink(slot);
            _slots.Remove(_keys[slot]);
        }

        _keys[slot] = layer;
        _slots[layer] = slot;
        PushFront(slot);
        return false;
    }

    private void Unlink(int slot)
    {
        var (prev, next) = (_prev[slot], _next[slot]);
        if (prev >= 0)
        {
            _next[prev] = next;
        }
        else
        {
            _head = next;
        }

        if (next >= 0)
        {
            _prev[next] = prev;
        }
        else
        {
            _tail = prev;
        }
    }

    private void PushFront(int slot)
    {
        _prev[slot] = -1;
        _next[slot] = _head;
        if (_head >= 0)
        {
            _prev[_head] = slot;
        }

        _head = slot;
        if (_tail < 0)
        {
            _tail = slot;
        }
    }
}
