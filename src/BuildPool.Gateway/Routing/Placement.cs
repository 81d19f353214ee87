using System.Collections.Concurrent;

namespace BuildPool.Gateway.Routing;

/// <summary>
/// Decides which builder a key's build goes to: a volume that pins the key first, then
/// consistent hashing with bounded loads over the builders that take new builds (Hashed), or
/// the key's own volume (Dedicated). Discovery swaps in a new backend set with
/// <see cref="Update"/>; decisions read the current immutable snapshot without locking and
/// allocate nothing.
/// </summary>
public sealed class Placement
{
    private readonly PlacementOptions _options;
    private readonly Action<string>? _keyWithoutVolume;
    private readonly ConcurrentDictionary<string, BackendLoad> _loads = new(StringComparer.Ordinal);
    private readonly HashSet<string> _openCircuits = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();
    private IReadOnlyList<Backend> _discovered = [];
    private PlacementTable _table;
    private long _totalLoad;

    /// <param name="options">The pool's placement settings.</param>
    /// <param name="keyWithoutVolume">
    /// Dedicated mode: called with a key that has no volume yet, on every placement of it until
    /// one appears, so it must be cheap and idempotent (the caller asks the operator once and
    /// coalesces the rest).
    /// </param>
    public Placement(PlacementOptions options, Action<string>? keyWithoutVolume = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BoundedLoadFactor, 1.0);
        _options = options;
        _keyWithoutVolume = keyWithoutVolume;
        _table = new PlacementTable([], options.VirtualNodesPerWeight, LoadOf);
    }

    public PlacementOptions Options => _options;

    /// <summary>The current backends (sorted by id), with open circuits shown as unavailable.</summary>
    public IReadOnlyList<Backend> Backends => Volatile.Read(ref _table).Backends;

    /// <summary>Builds placed and not yet ended, over all builders.</summary>
    public long TotalLoad => Interlocked.Read(ref _totalLoad);

    /// <summary>Replaces the backend set; decisions already under way finish on the old one.</summary>
    public void Update(IEnumerable<Backend> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        lock (_writeLock)
        {
            _discovered = [.. backends];
            Rebuild();
        }
    }

    /// <summary>
    /// Takes a builder out of placement (its circuit opened) or puts it back. Its keys move to
    /// the next builder on the ring meanwhile and return afterwards, as if it had been removed.
    /// </summary>
    public void SetCircuitOpen(string backendId, bool open)
    {
        ArgumentException.ThrowIfNullOrEmpty(backendId);
        lock (_writeLock)
        {
            if (open ? _openCircuits.Add(backendId) : _openCircuits.Remove(backendId))
            {
                Rebuild();
            }
        }
    }

    /// <summary>
    /// Where a build with <paramref name="key"/> goes now. Pass <paramref name="allowStopped"/>
    /// false after <c>startTimeout</c> to spill past a stopped builder to the next one on the ring.
    /// </summary>
    public PlacementDecision Place(string key, bool allowStopped = true)
    {
        ArgumentNullException.ThrowIfNull(key);
        var table = Volatile.Read(ref _table);
        if (table.KeyOwners.TryGetValue(key, out var owner))
        {
            var backend = table.Backends[owner];
            if (TakesNewBuilds(backend.State, allowStopped))
            {
                return new PlacementDecision(backend, _options.Mode == AssignmentMode.Dedicated ? PlacementOutcome.Dedicated : PlacementOutcome.Pinned);
            }

            // A key's own volume cannot be replaced by another; its build waits for it.
            if (_options.Mode == AssignmentMode.Dedicated)
            {
                return new PlacementDecision(backend, PlacementOutcome.Unavailable);
            }
        }
        else if (_options.Mode == AssignmentMode.Dedicated)
        {
            _keyWithoutVolume?.Invoke(key);
            return new PlacementDecision(null, PlacementOutcome.AwaitingVolume);
        }

        return PlaceOnRing(table, key, allowStopped);
    }

    /// <summary>A keyless call (<c>Info</c>, <c>ListWorkers</c>, <c>DiskUsage</c>): the least loaded ready builder.</summary>
    public PlacementDecision PlaceAny()
    {
        var table = Volatile.Read(ref _table);
        var best = -1;
        var bestLoad = int.MaxValue;
        for (var i = 0; i < table.Backends.Length; i++)
        {
            // Forks serve only the builds fork routing sends them (never a keyless call of anyone).
            if (table.Backends[i].State == BackendState.Ready && table.Backends[i].ForkOf is null && table.Loads[i].Value < bestLoad)
            {
                best = i;
                bestLoad = table.Loads[i].Value;
            }
        }

        return best < 0 ? new PlacementDecision(null, PlacementOutcome.Unavailable) : new PlacementDecision(table.Backends[best], PlacementOutcome.Any);
    }

    /// <summary>Counts a build on <paramref name="backendId"/> until the returned handle is disposed.</summary>
    public PlacementLoad Track(string backendId)
    {
        ArgumentException.ThrowIfNullOrEmpty(backendId);
        return new PlacementLoad(this, LoadOf(backendId));
    }

    /// <summary>Builds currently counted on <paramref name="backendId"/>.</summary>
    public int LoadOn(string backendId) => _loads.TryGetValue(backendId, out var load) ? load.Value : 0;

    internal void AddTotal(int delta) => Interlocked.Add(ref _totalLoad, delta);

    private PlacementDecision PlaceOnRing(PlacementTable table, string key, bool allowStopped)
    {
        var eligible = table.ReadyRingMembers + (allowStopped ? table.StoppedRingMembers : 0);
        var ring = table.Ring;
        if (eligible == 0 || ring.PointCount == 0)
        {
            return new PlacementDecision(null, PlacementOutcome.Unavailable);
        }

        var capacity = Math.Max(_options.MinimumLoadBound, (long)Math.Ceiling(_options.BoundedLoadFactor * (Interlocked.Read(ref _totalLoad) + 1) / eligible));
        var members = ring.MemberCount;
        var words = (members + 63) >> 6;
        // The walk meets each member many times (one per virtual node); a bit per member ends it
        // once all have been judged. 64 words cover 4,096 builders without touching the heap.
        Span<ulong> seen = words <= 64 ? stackalloc ulong[64] : new ulong[words];
        var seenCount = 0;
        var first = -1;
        var point = ring.FirstPoint(KeyHash.Hash(key));
        for (var step = 0; step < ring.PointCount && seenCount < members; step++, point = ring.NextPoint(point))
        {
            var member = ring.OwnerAt(point);
            ref var word = ref seen[member >> 6];
            var bit = 1UL << (member & 63);
            if ((word & bit) != 0)
            {
                continue;
            }

            word |= bit;
            seenCount++;
            var index = table.RingMembers[member];
            if (!TakesNewBuilds(table.Backends[index].State, allowStopped))
            {
                continue;
            }

            if (first < 0)
            {
                first = index;
            }

            if (table.Loads[index].Value < capacity)
            {
                return new PlacementDecision(table.Backends[index], index == first ? PlacementOutcome.Hashed : PlacementOutcome.Spilled);
            }
        }

        // Unreachable while c ≥ 1 (some builder is always below the mean), kept for safety.
        return new PlacementDecision(table.Backends[first], PlacementOutcome.Hashed);
    }

    private static bool TakesNewBuilds(BackendState state, bool allowStopped) =>
        state == BackendState.Ready || (allowStopped && state == BackendState.Stopped);

    private BackendLoad LoadOf(string backendId) => _loads.GetOrAdd(backendId, static _ => new BackendLoad());

    private void Rebuild()
    {
        var effective = _discovered.Select(b =>
            _openCircuits.Contains(b.Id) && b.State is BackendState.Ready or BackendState.Stopped
                ? b with { State = BackendState.Unavailable }
                : b);
        var table = new PlacementTable(effective, _options.VirtualNodesPerWeight, LoadOf);
        Volatile.Write(ref _table, table);

        // Forget counters of builders that left and have nothing running, so a Dedicated pool
        // with churning keys does not grow without bound.
        foreach (var (id, load) in _loads)
        {
            if (load.Value == 0 && !Array.Exists(table.Backends, b => b.Id == id))
            {
                _loads.TryRemove(new KeyValuePair<string, BackendLoad>(id, load));
            }
        }
    }
}
