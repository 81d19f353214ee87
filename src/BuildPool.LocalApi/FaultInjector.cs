using BuildPool.LocalApi.Storage;

namespace BuildPool.LocalApi;

/// <summary>
/// Makes the emulator misbehave the ways a real control plane does, so controllers are tested
/// against conflicts, transient 5xx, dropped watches and compaction (410 Gone).
/// Rates are probabilities per request in [0, 1].
/// </summary>
public sealed class FaultInjector : IDisposable
{
    private readonly ObjectStore _store;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _gate = new();
    private ITimer? _dropTimer;
    private TimeSpan? _dropEvery;
    private long _conflicts;
    private long _serverErrors;
    private long _droppedWatches;
    private long _forbidden;

    internal FaultInjector(ObjectStore store, TimeProvider time, Random random)
    {
        _store = store;
        _time = time;
        _random = random;
    }

    /// <summary>Probability that an update or patch fails with 409 Conflict before it is applied.</summary>
    public double ConflictRate { get; set; }

    /// <summary>Probability that a request fails with 500 InternalError before it is served.</summary>
    public double ServerErrorRate { get; set; }

    /// <summary>
    /// Whether <see cref="ServerErrorRate"/> also applies to discovery, OpenAPI and /version.
    /// Off by default: client libraries cache discovery and tests usually target the controller's reads and writes.
    /// </summary>
    public bool IncludeDiscovery { get; set; }

    /// <summary>
    /// Requests refused with 403 Forbidden, as the API server refuses a client whose Role lacks a
    /// rule, keyed by verb and resource as <see cref="RequestStats"/> names them (<c>("patch", "leases")</c>,
    /// <c>("update", "cachevolumes/status")</c>). Add and remove entries while a test runs.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<(string Verb, string Resource), bool> Forbidden { get; } = new();

    /// <summary>Requests refused by <see cref="Forbidden"/> so far.</summary>
    public long InjectedForbidden => Interlocked.Read(ref _forbidden);

    /// <summary>Conflicts injected so far.</summary>
    public long InjectedConflicts => Interlocked.Read(ref _conflicts);

    /// <summary>Server errors injected so far.</summary>
    public long InjectedServerErrors => Interlocked.Read(ref _serverErrors);

    /// <summary>Watches closed by <see cref="DropWatches"/> or <see cref="DropWatchesEvery"/> so far.</summary>
    public long DroppedWatches => Interlocked.Read(ref _droppedWatches);

    /// <summary>
    /// Per resource (plural name, e.g. <c>cachevolumes</c>): each watch event of that resource
    /// reaches its client this much later (on the real clock), as on a busy API server. A client's
    /// cache of that resource then lags behind the writes it has just made, while other resources'
    /// events still arrive at once.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, TimeSpan> WatchEventDelays { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, all open watches are closed at this interval (measured on the server's TimeProvider).</summary>
    public TimeSpan? DropWatchesEvery
    {
        get => _dropEvery;
        set
        {
            lock (_gate)
            {
                _dropEvery = value;
                _dropTimer?.Dispose();
                _dropTimer = value is { } period && period > TimeSpan.Zero
                    ? _time.CreateTimer(_ => DropWatches(), null, period, period)
                    : null;
            }
        }
    }

    /// <summary>Ends every open watch stream now, as a load balancer or API server restart would.</summary>
    public int DropWatches()
    {
        var n = _store.DropWatches();
        Interlocked.Add(ref _droppedWatches, n);
        return n;
    }

    /// <summary>Compacts the history: every resourceVersion handed out so far gets 410 Gone on the next watch or list.</summary>
    public void ExpireHistory() => _store.ExpireHistory();

    /// <summary>Turns all faults off.</summary>
    public void Clear()
    {
        ConflictRate = 0;
        ServerErrorRate = 0;
        DropWatchesEvery = null;
        WatchEventDelays.Clear();
        Forbidden.Clear();
    }

    internal bool RollServerError()
    {
        if (!Roll(ServerErrorRate))
        {
            return false;
        }

        Interlocked.Increment(ref _serverErrors);
        return true;
    }

    internal bool IsForbidden(string verb, string resource)
    {
        if (Forbidden.IsEmpty || !Forbidden.ContainsKey((verb, resource)))
        {
            return false;
        }

        Interlocked.Increment(ref _forbidden);
        return true;
    }

    internal bool RollConflict()
    {
        if (!Roll(ConflictRate))
        {
            return false;
        }

        Interlocked.Increment(ref _conflicts);
        return true;
    }

    private bool Roll(double rate)
    {
        if (rate <= 0)
        {
            return false;
        }

        lock (_gate)
        {
            return _random.NextDouble() < rate;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _dropTimer?.Dispose();
            _dropTimer = null;
        }
    }
}
