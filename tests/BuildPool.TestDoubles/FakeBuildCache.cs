namespace BuildPool.TestDoubles;

/// <summary>
/// The layer cache of one fake builder: the cache keys of the steps it has built. A step is a
/// hit when its key is here; a context-reading step's key covers the content of the context it
/// read, so the same files hit and changed files miss (as BuildKit's content-based keys do).
/// </summary>
public sealed class FakeBuildCache
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);

    /// <summary>How many times the cache was emptied (a Prune on the daemon).</summary>
    public int Prunes { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count;
            }
        }
    }

    public bool Contains(string key)
    {
        lock (_lock)
        {
            return _keys.Contains(key);
        }
    }

    public void AddRange(IEnumerable<string> keys)
    {
        lock (_lock)
        {
            _keys.UnionWith(keys);
        }
    }

    /// <summary>Forgets every key: a prune or garbage collection of the whole build cache.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _keys.Clear();
            Prunes++;
        }
    }
}
