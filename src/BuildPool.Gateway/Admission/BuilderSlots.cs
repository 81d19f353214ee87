namespace BuildPool.Gateway.Admission;

// One builder's slots and its FIFO queue. Every state change happens under _lock; completing a
// waiter's task happens after the lock is released (continuations run asynchronously anyway,
// but the lock must never be held while user code could run).
internal sealed class BuilderSlots(AdmissionController owner, string backendId, int capacity)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _queue = new();
    private int _capacity = capacity;
    private int _running;

    public string BackendId { get; } = backendId;

    public AdmissionCounts Counts
    {
        get
        {
            lock (_lock)
            {
                return new AdmissionCounts(_running, _queue.Count, _capacity);
            }
        }
    }

    public int QueuedBefore(long timestamp)
    {
        lock (_lock)
        {
            var count = 0;
            for (var node = _queue.First; node is not null && node.Value.Enqueued < timestamp; node = node.Next)
            {
                count++;
            }

            return count;
        }
    }

    public void SetCapacity(int capacity)
    {
        List<Waiter>? granted = null;
        lock (_lock)
        {
            _capacity = capacity;
            while (_running < _capacity && _queue.First is { } first)
            {
                _running++;
                owner.Counted(runningDelta: 1, queuedDelta: -1);
                (granted ??= []).Add(Dequeue(first.Value));
            }
        }

        granted?.ForEach(Grant);
    }

    public ValueTask<AdmissionLease> AcquireAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<AdmissionLease>(cancellationToken);
        }

        var time = owner.TimeProvider;
        lock (_lock)
        {
            // Nobody may overtake a queued build, or a Locked volume's waiter could starve.
            if (_running < _capacity && _queue.Count == 0)
            {
                _running++;
                owner.Counted(runningDelta: 1, queuedDelta: 0);
                return ValueTask.FromResult(new AdmissionLease(this, TimeSpan.Zero));
            }

            var waiter = new Waiter(this, time.GetTimestamp());
            waiter.Node = _queue.AddLast(waiter);
            owner.Counted(runningDelta: 0, queuedDelta: 1);
            // Created under the lock so no completion path can miss them; both callbacks take
            // this same (reentrant) lock, so one firing at once is still ordered after this.
            waiter.Timer = time.CreateTimer(static w => ((Waiter)w!).Slots.TimeOut((Waiter)w!), waiter, TimerSafe(owner.Options.QueueTimeout), Timeout.InfiniteTimeSpan);
            waiter.Registration = cancellationToken.UnsafeRegister(static (w, token) => ((Waiter)w!).Slots.Cancel((Waiter)w!, token), waiter);
            return new ValueTask<AdmissionLease>(waiter.Completion.Task);
        }
    }

    // Timers take at most about 49.7 days; a longer queue timeout means "wait for as long as it takes".
    private static TimeSpan TimerSafe(TimeSpan timeout) =>
        timeout > MaxTimerDelay ? MaxTimerDelay : timeout;

    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public void Release()
    {
        Waiter? next = null;
        lock (_lock)
        {
            // Hand the slot straight to the head of the queue (running stays the same), unless
            // capacity shrank below what is running.
            if (_running <= _capacity && _queue.First is { } first)
            {
                next = Dequeue(first.Value);
                owner.Counted(runningDelta: 0, queuedDelta: -1);
            }
            else
            {
                _running--;
                owner.Counted(runningDelta: -1, queuedDelta: 0);
            }
        }

        if (next is not null)
        {
            Grant(next);
        }
    }

    private void TimeOut(Waiter waiter)
    {
        int running;
        lock (_lock)
        {
            if (waiter.Node is null)
            {
                return;
            }

            Remove(waiter);
            running = _running;
        }

        waiter.Registration.Unregister();
        // The configured timeout, not the measured wait: timers fire a hair late, and "waited
        // 5m0.003s" reads worse than the setting the user can look up.
        waiter.Completion.TrySetException(new BuilderAtCapacityException(BackendId, running, owner.Options.QueueTimeout));
    }

    private void Cancel(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (waiter.Node is null)
            {
                return;
            }

            Remove(waiter);
        }

        waiter.Timer?.Dispose();
        waiter.Completion.TrySetCanceled(cancellationToken);
    }

    private void Grant(Waiter waiter)
    {
        waiter.Timer?.Dispose();
        waiter.Registration.Unregister();
        waiter.Completion.TrySetResult(new AdmissionLease(this, owner.TimeProvider.GetElapsedTime(waiter.Enqueued)));
    }

    // The caller counts: a hand-over keeps the running total, a new slot adds to it.
    private Waiter Dequeue(Waiter waiter)
    {
        _queue.Remove(waiter.Node!);
        waiter.Node = null;
        return waiter;
    }

    private void Remove(Waiter waiter)
    {
        _queue.Remove(waiter.Node!);
        waiter.Node = null;
        owner.Counted(runningDelta: 0, queuedDelta: -1);
    }

    private sealed class Waiter(BuilderSlots slots, long enqueued)
    {
        public BuilderSlots Slots { get; } = slots;

        public long Enqueued { get; } = enqueued;

        public TaskCompletionSource<AdmissionLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Non-null while queued; cleared under the lock by whichever path completes the waiter.
        public LinkedListNode<Waiter>? Node { get; set; }

        public ITimer? Timer { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
