using System.Collections.Concurrent;

namespace BuildPool.Gateway.Admission;

/// <summary>
/// Caps running builds per builder (<c>maxConcurrentBuilds</c>; 1 for a <c>Locked</c> volume)
/// and queues the rest first come, first served, for up to <see cref="AdmissionOptions.QueueTimeout"/>.
/// A build takes its slot after placement chose its builder and gives it back when it ends.
/// </summary>
public sealed class AdmissionController
{
    private readonly ConcurrentDictionary<string, BuilderSlots> _builders = new(StringComparer.Ordinal);
    private long _running;
    private long _queued;

    public AdmissionController(AdmissionOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DefaultMaxConcurrentBuilds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueueTimeout, TimeSpan.Zero);
        Options = options;
        TimeProvider = timeProvider;
    }

    public AdmissionOptions Options { get; }

    internal TimeProvider TimeProvider { get; }

    /// <summary>Builds holding a slot, over all builders.</summary>
    public long TotalRunning => Interlocked.Read(ref _running);

    /// <summary>Builds waiting for a slot, over all builders.</summary>
    public long TotalQueued => Interlocked.Read(ref _queued);

    /// <summary>
    /// Sets a builder's slots (1 for a Locked volume). Raising it admits queued builds at once;
    /// lowering it lets running builds finish and admits no one until they are below it.
    /// </summary>
    public void SetCapacity(string backendId, int maxConcurrentBuilds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentBuilds, 1);
        ArgumentException.ThrowIfNullOrEmpty(backendId);
        SlotsOf(backendId).SetCapacity(maxConcurrentBuilds);
    }

    /// <summary>
    /// Waits for a slot on <paramref name="backendId"/>, in arrival order. Completes at once when
    /// one is free; fails with <see cref="BuilderAtCapacityException"/> after the queue timeout,
    /// or is cancelled (leaving the queue) when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public ValueTask<AdmissionLease> AcquireAsync(string backendId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(backendId);
        return SlotsOf(backendId).AcquireAsync(cancellationToken);
    }

    /// <summary>Running and queued builds on <paramref name="backendId"/>.</summary>
    public AdmissionCounts GetCounts(string backendId) =>
        _builders.TryGetValue(backendId, out var slots) ? slots.Counts : new AdmissionCounts(0, 0, Options.DefaultMaxConcurrentBuilds);

    /// <summary>Builds waiting on <paramref name="backendId"/> that joined its queue before <paramref name="timestamp"/> (of <see cref="TimeProvider"/>).</summary>
    public int QueuedBefore(string backendId, long timestamp) =>
        _builders.TryGetValue(backendId, out var slots) ? slots.QueuedBefore(timestamp) : 0;

    internal void Counted(int runningDelta, int queuedDelta)
    {
        if (runningDelta != 0)
        {
            Interlocked.Add(ref _running, runningDelta);
        }

        if (queuedDelta != 0)
        {
            Interlocked.Add(ref _queued, queuedDelta);
        }
    }

    private BuilderSlots SlotsOf(string backendId) =>
        _builders.GetOrAdd(backendId, static (id, self) => new BuilderSlots(self, id, self.Options.DefaultMaxConcurrentBuilds), this);
}
