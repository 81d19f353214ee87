using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Gateway.Tests.Admission;

public sealed class AdmissionControllerTests
{
    private readonly FakeTimeProvider _time = new();

    private AdmissionController Controller(int defaultSlots = 4) =>
        new(new AdmissionOptions { QueueTimeout = TimeSpan.FromMinutes(5), DefaultMaxConcurrentBuilds = defaultSlots }, _time);

    [Fact]
    public async Task Locked_volume_runs_two_builds_of_one_key_strictly_one_after_the_other()
    {
        var admission = Controller();
        admission.SetCapacity("release", 1);
        var log = new List<string>();

        async Task BuildAsync(string name, TaskCompletionSource finish)
        {
            using var lease = await admission.AcquireAsync("release", CancellationToken.None);
            lock (log)
            {
                log.Add($"{name} start");
            }

            await finish.Task;
            lock (log)
            {
                log.Add($"{name} end");
            }
        }

        var finishFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finishSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = BuildAsync("first", finishFirst);
        var second = BuildAsync("second", finishSecond);
        await Eventually.TrueAsync(() => admission.GetCounts("release") == new AdmissionCounts(1, 1, 1), "the second build queues");

        finishFirst.SetResult();
        await first.Within();
        await Eventually.TrueAsync(() => admission.GetCounts("release").Queued == 0, "the second build starts");
        finishSecond.SetResult();
        await second.Within();

        Assert.Equal(["first start", "first end", "second start", "second end"], log);
        Assert.Equal(new AdmissionCounts(0, 0, 1), admission.GetCounts("release"));
    }

    [Fact]
    public async Task Queued_builds_get_slots_in_arrival_order()
    {
        var admission = Controller(defaultSlots: 1);
        var holder = await admission.AcquireAsync("ci-0", CancellationToken.None);
        var waiting = Enumerable.Range(0, 6).Select(_ => admission.AcquireAsync("ci-0", CancellationToken.None).AsTask()).ToArray();
        var order = new List<int>();

        var current = holder;
        for (var i = 0; i < waiting.Length; i++)
        {
            current.Dispose();
            var next = await Task.WhenAny(waiting.Where(t => !order.Contains(Array.IndexOf(waiting, t)))).Within();
            order.Add(Array.IndexOf(waiting, next));
            current = await next;
            Assert.Equal(waiting.Length - i - 1, admission.GetCounts("ci-0").Queued);
        }

        current.Dispose();
        Assert.Equal([0, 1, 2, 3, 4, 5], order);
    }

    [Fact]
    public async Task A_free_slot_does_not_let_a_newcomer_overtake_the_queue()
    {
        var admission = Controller(defaultSlots: 1);
        var holder = await admission.AcquireAsync("ci-0", CancellationToken.None);
        var queued = admission.AcquireAsync("ci-0", CancellationToken.None).AsTask();

        holder.Dispose();
        var newcomer = admission.AcquireAsync("ci-0", CancellationToken.None);

        Assert.False(newcomer.IsCompleted);
        (await queued.Within()).Dispose();
        (await newcomer.AsTask().Within()).Dispose();
    }

    [Fact]
    public async Task A_full_queue_times_out_with_a_message_naming_the_builder_and_the_wait()
    {
        var admission = Controller();
        var running = new List<AdmissionLease>();
        for (var i = 0; i < 4; i++)
        {
            running.Add(await admission.AcquireAsync("ci-0", CancellationToken.None));
        }

        var waiting = admission.AcquireAsync("ci-0", CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<BuilderAtCapacityException>(() => waiting.Within());
        Assert.Equal("builder ci-0 is at capacity (4 running builds); waited 5m in queue", error.Message);
        Assert.Equal(("ci-0", 4, TimeSpan.FromMinutes(5)), (error.BackendId, error.RunningBuilds, error.Waited));
        Assert.Equal(new AdmissionCounts(4, 0, 4), admission.GetCounts("ci-0"));
        running.ForEach(l => l.Dispose());
    }

    [Fact]
    public async Task A_locked_volume_timeout_says_one_running_build()
    {
        var admission = new AdmissionController(new AdmissionOptions { QueueTimeout = TimeSpan.FromSeconds(90) }, _time);
        admission.SetCapacity("release", 1);
        using var holder = await admission.AcquireAsync("release", CancellationToken.None);
        var waiting = admission.AcquireAsync("release", CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(90));

        var error = await Assert.ThrowsAsync<BuilderAtCapacityException>(() => waiting.Within());
        Assert.Equal("builder release is at capacity (1 running build); waited 1m30s in queue", error.Message);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_and_the_next_one_gets_the_slot()
    {
        var admission = Controller(defaultSlots: 1);
        var holder = await admission.AcquireAsync("ci-0", CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = admission.AcquireAsync("ci-0", cancel.Token).AsTask();
        var next = admission.AcquireAsync("ci-0", CancellationToken.None).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.Within());
        Assert.Equal(new AdmissionCounts(1, 1, 1), admission.GetCounts("ci-0"));
        holder.Dispose();
        using var lease = await next.Within();
        Assert.Equal(new AdmissionCounts(1, 0, 1), admission.GetCounts("ci-0"));
        // The timer of the cancelled waiter is gone: advancing past the timeout fails nothing.
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, admission.TotalRunning);
    }

    [Fact]
    public async Task An_already_cancelled_token_fails_at_once_without_queueing()
    {
        var admission = Controller(defaultSlots: 1);
        using var holder = await admission.AcquireAsync("ci-0", CancellationToken.None);

        var acquire = admission.AcquireAsync("ci-0", new CancellationToken(canceled: true));

        Assert.True(acquire.IsCanceled);
        Assert.Equal(0, admission.GetCounts("ci-0").Queued);
    }

    [Fact]
    public async Task Disposing_a_lease_twice_frees_its_slot_once()
    {
        var admission = Controller(defaultSlots: 2);
        var a = await admission.AcquireAsync("ci-0", CancellationToken.None);
        using var b = await admission.AcquireAsync("ci-0", CancellationToken.None);

        a.Dispose();
        a.Dispose();

        Assert.Equal(new AdmissionCounts(1, 0, 2), admission.GetCounts("ci-0"));
        Assert.Equal("ci-0", a.BackendId);
    }

    [Fact]
    public async Task Raising_capacity_admits_queued_builds_at_once()
    {
        var admission = Controller(defaultSlots: 1);
        using var holder = await admission.AcquireAsync("ci-0", CancellationToken.None);
        var waiting = Enumerable.Range(0, 3).Select(_ => admission.AcquireAsync("ci-0", CancellationToken.None).AsTask()).ToArray();

        admission.SetCapacity("ci-0", 3);

        var admitted = await Task.WhenAny(waiting).Within();
        await Eventually.TrueAsync(() => waiting.Count(t => t.IsCompletedSuccessfully) == 2, "two waiters are admitted");
        Assert.Equal(new AdmissionCounts(3, 1, 3), admission.GetCounts("ci-0"));
        foreach (var task in waiting.Where(t => t.IsCompletedSuccessfully))
        {
            (await task).Dispose();
        }

        (await waiting[2].Within()).Dispose();
        Assert.Same(waiting[0], admitted);
    }

    [Fact]
    public async Task Lowering_capacity_lets_running_builds_finish_before_admitting_more()
    {
        var admission = Controller(defaultSlots: 3);
        var running = new List<AdmissionLease>();
        for (var i = 0; i < 3; i++)
        {
            running.Add(await admission.AcquireAsync("ci-0", CancellationToken.None));
        }

        admission.SetCapacity("ci-0", 1);
        var waiting = admission.AcquireAsync("ci-0", CancellationToken.None).AsTask();
        running[0].Dispose();
        running[1].Dispose();
        Assert.False(waiting.IsCompleted);
        running[2].Dispose();

        using var lease = await waiting.Within();
        Assert.Equal(new AdmissionCounts(1, 0, 1), admission.GetCounts("ci-0"));
    }

    [Fact]
    public async Task A_lease_reports_how_long_it_queued()
    {
        var admission = Controller(defaultSlots: 1);
        var holder = await admission.AcquireAsync("ci-0", CancellationToken.None);
        var waiting = admission.AcquireAsync("ci-0", CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(42));
        holder.Dispose();

        using var lease = await waiting.Within();
        Assert.Equal(TimeSpan.Zero, holder.QueueWait);
        Assert.Equal(TimeSpan.FromSeconds(42), lease.QueueWait);
    }

    [Fact]
    public async Task Builders_do_not_share_slots()
    {
        var admission = Controller(defaultSlots: 1);
        using var a = await admission.AcquireAsync("ci-0", CancellationToken.None);

        var b = admission.AcquireAsync("ci-1", CancellationToken.None);

        Assert.True(b.IsCompletedSuccessfully);
        (await b).Dispose();
    }

    [Fact]
    public async Task A_queue_timeout_longer_than_a_timer_can_wait_queues_the_build_until_a_slot_frees()
    {
        // Real timers take at most about 49.7 days; a longer queueTimeout must not break admission.
        var admission = new AdmissionController(new AdmissionOptions { QueueTimeout = TimeSpan.FromDays(100), DefaultMaxConcurrentBuilds = 1 }, TimeProvider.System);
        var first = await admission.AcquireAsync("ci-0", CancellationToken.None).AsTask().Within();

        var second = admission.AcquireAsync("ci-0", CancellationToken.None).AsTask();
        await Eventually.TrueAsync(() => admission.GetCounts("ci-0").Queued == 1, "the second build queues");
        first.Dispose();

        using var lease = await second.Within();
        Assert.Equal(new AdmissionCounts(1, 0, 1), admission.GetCounts("ci-0"));
    }

    [Fact]
    public async Task Concurrent_builds_never_exceed_the_slots_and_leak_none()
    {
        const int Slots = 3;
        var admission = new AdmissionController(new AdmissionOptions { QueueTimeout = TimeSpan.FromMinutes(10), DefaultMaxConcurrentBuilds = Slots }, TimeProvider.System);
        var inside = 0;
        var maxInside = 0;
        var cancelledCount = 0;

        async Task WorkerAsync(int seed)
        {
            var random = new Random(seed);
            for (var i = 0; i < 300; i++)
            {
                // Some waiters give up (cancellation racing with hand-over); the rest build.
                using var cancel = new CancellationTokenSource();
                var acquire = admission.AcquireAsync("ci-0", cancel.Token);
                if (random.Next(4) == 0)
                {
                    await cancel.CancelAsync();
                }

                AdmissionLease lease;
                try
                {
                    lease = await acquire;
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelledCount);
                    continue;
                }

                using (lease)
                {
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref maxInside, now);
                    if (random.Next(2) == 0)
                    {
                        await Task.Yield();
                    }

                    Interlocked.Decrement(ref inside);
                    if (random.Next(5) == 0)
                    {
                        lease.Dispose(); // an early second dispose must not free a second slot
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 12).Select(seed => Task.Run(() => WorkerAsync(seed)))).Within(60);

        Assert.InRange(maxInside, 1, Slots);
        Assert.Equal(new AdmissionCounts(0, 0, Slots), admission.GetCounts("ci-0"));
        Assert.Equal((0, 0), (admission.TotalRunning, admission.TotalQueued));
        // The full capacity is still there afterwards.
        var leases = new List<AdmissionLease>();
        for (var i = 0; i < Slots; i++)
        {
            var acquire = admission.AcquireAsync("ci-0", CancellationToken.None);
            Assert.True(acquire.IsCompletedSuccessfully);
            leases.Add(await acquire);
        }

        leases.ForEach(l => l.Dispose());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
