namespace BuildPool.Operator.Forks;

/// <summary>
/// Forks this operator created that its cache may not show yet, per pool. Without it two volumes
/// of one pool reconciled back to back could both see room under maxPerPool and overshoot it.
/// One pool's fork decisions are also serialized through <see cref="LockAsync"/>.
/// </summary>
public sealed class ForkLedger(TimeProvider time)
{
    /// <summary>How long a created fork counts without the cache showing it.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, (string Base, long At)>> _recent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Holds the pool's fork decisions until the returned handle is disposed.</summary>
    public async Task<IDisposable> LockAsync(string pool, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate;
        lock (_lock)
        {
            if (!_gates.TryGetValue(pool, out gate!))
            {
                gate = new SemaphoreSlim(1, 1);
                _gates[pool] = gate;
            }
        }

        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    /// <summary>The pool's forks: those in <paramref name="cached"/> and those created since that the cache does not show yet.</summary>
    public IReadOnlyCollection<(string Name, string Base)> Forks(string pool, IEnumerable<(string Name, string Base)> cached)
    {
        var all = cached.ToList();
        var names = all.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            if (_recent.TryGetValue(pool, out var recent))
            {
                foreach (var (name, entry) in recent.ToList())
                {
                    if (names.Contains(name) || time.GetElapsedTime(entry.At) > Horizon)
                    {
                        recent.Remove(name);
                    }
                    else
                    {
                        all.Add((name, entry.Base));
                    }
                }
            }
        }

        return all;
    }

    public void Created(string pool, string name, string baseName)
    {
        lock (_lock)
        {
            if (!_recent.TryGetValue(pool, out var recent))
            {
                recent = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
                _recent[pool] = recent;
            }

            recent[name] = (baseName, time.GetTimestamp());
        }
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
