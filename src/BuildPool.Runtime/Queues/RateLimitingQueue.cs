using System.Diagnostics;
using BuildPool.Runtime.Metrics;
using BuildPool.Runtime.Rate;

namespace BuildPool.Runtime.Queues;

/// <summary>
/// A work queue with client-go's contract: keys are deduplicated while they wait (the dirty set),
/// a key is handed to at most one worker at a time (the processing set), and a key added while it
/// is being processed is handed out again only after <see cref="Done"/>. Delayed adds wait in a
/// min-heap driven by the injected <see cref="TimeProvider"/>, and failures back off through an
/// <see cref="IRateLimiter{TKey}"/>.
/// </summary>
/// <remarks>
/// Keys should be small values (the controller uses <c>namespace/name</c>), never objects: the
/// worker reads the current state from the cache, so a burst of events becomes one reconcile.
/// </remarks>
public sealed class RateLimitingQueue<TKey> : IDisposable
    where TKey : notnull
{
    private readonly Lock _gate = new();
    private readonly Queue<TKey> _queue = new();
    private readonly HashSet<TKey> _dirty = [];
    private readonly HashSet<TKey> _processing = [];
    private readonly Dictionary<TKey, long> _queuedAt = [];
    private readonly Dictionary<TKey, long> _startedAt = [];
    private readonly LinkedList<TaskCompletionSource<QueueItem<TKey>>> _waiters = new();

    // Delayed adds: the heap may hold stale entries for keys whose due time was moved earlier;
    // _due holds the one that counts, and stale heap entries are skipped when they surface.
    private readonly PriorityQueue<TKey, long> _delayed = new();
    private readonly Dictionary<TKey, long> _due = [];
    private ITimer? _timer;

    private readonly IRateLimiter<TKey> _rateLimiter;
    private readonly TimeProvider _time;
    private readonly RuntimeMetrics? _metrics;
    private readonly KeyValuePair<string, object?> _nameTag;

    private bool _shuttingDown;
    private TaskCompletionSource? _drained;

    public RateLimitingQueue(string name, IRateLimiter<TKey> rateLimiter, TimeProvider time, RuntimeMetrics? metrics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(rateLimiter);
        ArgumentNullException.ThrowIfNull(time);
        Name = name;
        _rateLimiter = rateLimiter;
        _time = time;
        _metrics = metrics;
        _nameTag = new KeyValuePair<string, object?>("name", name);
        metrics?.TrackQueue(name, InProgress);
    }

    /// <summary>Seconds the keys being processed have been held, summed and the longest (client-go's unfinished work and longest processor).</summary>
    public (double Unfinished, double Longest) InProgress()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            double sum = 0, longest = 0;
            foreach (var started in _startedAt.Values)
            {
                var held = _time.GetElapsedTime(started, now).TotalSeconds;
                sum += held;
                longest = Math.Max(longest, held);
            }

            return (sum, longest);
        }
    }

    public string Name { get; }

    /// <summary>Keys waiting to be handed out (not counting delayed or in-flight ones).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    public bool IsShuttingDown
    {
        get
        {
            lock (_gate)
            {
                return _shuttingDown;
            }
        }
    }

    /// <summary>Marks <paramref name="key"/> as needing work. Does nothing if it already waits or the queue is shut down.</summary>
    public void Add(TKey key)
    {
        lock (_gate)
        {
            AddLocked(key);
        }
    }

    /// <summary>
    /// Waits for a key. The caller owns the key until it calls <see cref="Done"/> (in a
    /// <c>finally</c>); no other caller gets the same key meanwhile. After <see cref="ShutDown"/>
    /// the keys still queued are handed out, then every call returns a shut-down item.
    /// </summary>
    /// <remarks>
    /// If cancellation races with a key being handed over, the key wins and is returned; the caller
    /// must still call <see cref="Done"/> for it.
    /// </remarks>
    public async ValueTask<QueueItem<TKey>> GetAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<QueueItem<TKey>> waiter;
        LinkedListNode<TaskCompletionSource<QueueItem<TKey>>> node;
        lock (_gate)
        {
            if (_queue.Count > 0)
            {
                return new QueueItem<TKey>(TakeLocked(), false);
            }

            if (_shuttingDown)
            {
                return new QueueItem<TKey>(default!, true);
            }

            cancellationToken.ThrowIfCancellationRequested();

            // Continuations run asynchronously so that completing a waiter under the lock never
            // runs the worker's code under the lock.
            waiter = new TaskCompletionSource<QueueItem<TKey>>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }

        await using var registration = cancellationToken.UnsafeRegister(
            static (state, token) =>
            {
                var (queue, waitingNode) = ((RateLimitingQueue<TKey>, LinkedListNode<TaskCompletionSource<QueueItem<TKey>>>))state!;
                queue.CancelWaiter(waitingNode, token);
            },
            (this, node));
        return await waiter.Task.ConfigureAwait(false);
    }

    /// <summary>Ends the caller's work on <paramref name="key"/>; if it was added meanwhile, it is queued again now.</summary>
    public void Done(TKey key)
    {
        lock (_gate)
        {
            if (!_processing.Remove(key))
            {
                return;
            }

            if (_startedAt.Remove(key, out var started))
            {
                _metrics?.WorkqueueWorkDuration.Record(_time.GetElapsedTime(started).TotalSeconds, _nameTag);
            }

            if (_dirty.Contains(key))
            {
                EnqueueLocked(key);
            }
            else if (_processing.Count == 0)
            {
                _drained?.TrySetResult();
            }
        }
    }

    /// <summary>Adds <paramref name="key"/> once <paramref name="delay"/> has passed on the queue's clock. Of two pending delays for one key, the earlier wins.</summary>
    public void AddAfter(TKey key, TimeSpan delay)
    {
        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }

            if (delay <= TimeSpan.Zero)
            {
                AddLocked(key);
                return;
            }

            var due = _time.GetUtcNow().UtcTicks + delay.Ticks;
            if (_due.TryGetValue(key, out var existing) && existing <= due)
            {
                return;
            }

            _due[key] = due;
            _delayed.Enqueue(key, due);
            ScheduleTimerLocked();
        }
    }

    /// <summary>Adds <paramref name="key"/> after the delay its rate limiter asks for (a retry).</summary>
    public void AddRateLimited(TKey key)
    {
        if (IsShuttingDown)
        {
            return;
        }

        _metrics?.WorkqueueRetries.Add(1, _nameTag);
        AddAfter(key, _rateLimiter.When(key));
    }

    /// <summary>Resets the backoff of <paramref name="key"/>; call it after a successful attempt.</summary>
    public void Forget(TKey key) => _rateLimiter.Forget(key);

    public int NumRequeues(TKey key) => _rateLimiter.NumRequeues(key);

    /// <summary>Stops accepting keys; waiting callers of <see cref="GetAsync"/> return once the queue is empty. Delayed adds are dropped.</summary>
    public void ShutDown()
    {
        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }

            _shuttingDown = true;
            _delayed.Clear();
            _due.Clear();
            _timer?.Dispose();
            _timer = null;

            // Waiters exist only while the queue is empty, so all of them learn about the shutdown now.
            while (_waiters.First is { } first)
            {
                _waiters.RemoveFirst();
                first.Value.TrySetResult(new QueueItem<TKey>(default!, true));
            }
        }
    }

    /// <summary>Shuts down, then waits until every key handed out has been <see cref="Done"/>.</summary>
    public Task ShutDownWithDrainAsync(CancellationToken cancellationToken = default)
    {
        ShutDown();
        lock (_gate)
        {
            if (_processing.Count == 0)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task.WaitAsync(cancellationToken);
        }
    }

    public void Dispose() => ShutDown();

    private void AddLocked(TKey key)
    {
        if (_shuttingDown || !_dirty.Add(key))
        {
            return;
        }

        _metrics?.WorkqueueAdds.Add(1, _nameTag);

        // A key in flight stays only dirty; Done queues it again, so no two workers hold it.
        if (!_processing.Contains(key))
        {
            EnqueueLocked(key);
        }
    }

    private void EnqueueLocked(TKey key)
    {
        _queue.Enqueue(key);
        _queuedAt[key] = _time.GetTimestamp();
        _metrics?.WorkqueueDepth.Add(1, _nameTag);

        while (_queue.Count > 0 && _waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            first.Value.TrySetResult(new QueueItem<TKey>(TakeLocked(), false));
        }
    }

    private TKey TakeLocked()
    {
        var key = _queue.Dequeue();
        _metrics?.WorkqueueDepth.Add(-1, _nameTag);
        var now = _time.GetTimestamp();
        if (_queuedAt.Remove(key, out var queued))
        {
            _metrics?.WorkqueueQueueDuration.Record(_time.GetElapsedTime(queued, now).TotalSeconds, _nameTag);
        }

        _processing.Add(key);
        _dirty.Remove(key);
        _startedAt[key] = now;
        return key;
    }

    private void CancelWaiter(LinkedListNode<TaskCompletionSource<QueueItem<TKey>>> node, CancellationToken token)
    {
        lock (_gate)
        {
            // A node no longer in the list has already been handed a key or the shutdown.
            if (node.List is null)
            {
                return;
            }

            _waiters.Remove(node);
        }

        node.Value.TrySetCanceled(token);
    }

    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromDays(1);

    private void ScheduleTimerLocked()
    {
        long nextDue = 0;
        var found = false;
        while (_delayed.TryPeek(out var key, out var due))
        {
            if (_due.TryGetValue(key, out var current) && current == due)
            {
                nextDue = due;
                found = true;
                break;
            }

            _delayed.Dequeue();
        }

        if (!found)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        // Timers take at most about 49.7 days, and a requeue can be further out than that (a
        // certificate renewed after 60 of its 90 days): wake at least daily and look again.
        var dueIn = TimeSpan.FromTicks(Math.Clamp(nextDue - _time.GetUtcNow().UtcTicks, 1, MaxTimerDelay.Ticks));
        _timer ??= _time.CreateTimer(static state => ((RateLimitingQueue<TKey>)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }

            var now = _time.GetUtcNow().UtcTicks;
            while (_delayed.TryPeek(out var key, out var due) && due <= now)
            {
                _delayed.Dequeue();
                if (_due.TryGetValue(key, out var current) && current == due)
                {
                    _due.Remove(key);
                    AddLocked(key);
                }
            }

            ScheduleTimerLocked();
        }
    }
}
