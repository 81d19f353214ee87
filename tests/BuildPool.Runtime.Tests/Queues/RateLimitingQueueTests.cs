using System.Collections.Concurrent;
using BuildPool.Runtime.Metrics;
using BuildPool.Runtime.Queues;
using BuildPool.Runtime.Rate;
using BuildPool.Runtime.Tests.Support;
using BuildPool.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Runtime.Tests.Queues;

public sealed class RateLimitingQueueTests
{
    private readonly FakeTimeProvider _time = new();

    private RateLimitingQueue<string> NewQueue(RuntimeMetrics? metrics = null) =>
        new("test", new ItemExponentialFailureRateLimiter<string>(), _time, metrics);

    [Fact]
    public async Task A_key_added_twice_while_waiting_is_handed_out_once()
    {
        using var queue = NewQueue();
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");

        Assert.Equal(2, queue.Count);
        Assert.Equal("a", (await queue.GetAsync()).Key);
        Assert.Equal("b", (await queue.GetAsync()).Key);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_key_added_while_processing_is_handed_out_again_only_after_Done()
    {
        using var queue = NewQueue();
        queue.Add("a");
        var first = await queue.GetAsync();

        queue.Add("a");
        Assert.Equal(0, queue.Count);
        var second = queue.GetAsync().AsTask();
        await Eventually.NeverAsync(() => second.IsCompleted, "the key must not go to a second worker while the first holds it");

        queue.Done(first.Key);

        Assert.Equal("a", (await second.WaitAsync(Eventually.DefaultTimeout)).Key);
    }

    [Fact]
    public async Task A_key_processed_without_new_adds_is_not_handed_out_again_after_Done()
    {
        using var queue = NewQueue();
        queue.Add("a");
        var item = await queue.GetAsync();
        queue.Done(item.Key);

        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task No_key_is_ever_held_by_two_workers_at_once_under_concurrent_adds()
    {
        using var queue = new RateLimitingQueue<int>("stress", new ItemExponentialFailureRateLimiter<int>(), TimeProvider.System);
        var inFlight = new ConcurrentDictionary<int, byte>();
        var violations = 0;
        var processed = 0;

        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            while (true)
            {
                var item = await queue.GetAsync();
                if (item.IsShutDown)
                {
                    return;
                }

                try
                {
                    if (!inFlight.TryAdd(item.Key, 0))
                    {
                        Interlocked.Increment(ref violations);
                    }

                    await Task.Yield();
                    Interlocked.Increment(ref processed);
                    inFlight.TryRemove(item.Key, out _);
                }
                finally
                {
                    queue.Done(item.Key);
                }
            }
        })).ToArray();

        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                queue.Add(i % 16);
                if (i % 64 == 0)
                {
                    await Task.Yield();
                }
            }
        })).ToArray();

        await Task.WhenAll(producers);
        await queue.ShutDownWithDrainAsync().WaitAsync(Eventually.DefaultTimeout);
        await Task.WhenAll(workers).WaitAsync(Eventually.DefaultTimeout);

        Assert.Equal(0, violations);
        Assert.True(processed >= 16, $"only {processed} items were processed");
    }

    [Fact]
    public async Task AddAfter_hands_the_key_out_only_once_fake_time_has_advanced_past_the_delay()
    {
        using var queue = NewQueue();
        queue.AddAfter("a", TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, queue.Count);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Count);
        Assert.Equal("a", (await queue.GetAsync()).Key);
    }

    [Fact]
    public async Task A_key_due_in_60_days_is_held_without_breaking_the_real_timer_and_comes_out_on_time()
    {
        // Real timers take at most about 49.7 days; a renewal requeue 60 days out used to make
        // the system timer throw, which crashes the process when it happens in a timer callback.
        using var real = new RateLimitingQueue<string>("test", new ItemExponentialFailureRateLimiter<string>(), TimeProvider.System);
        real.AddAfter("renewal", TimeSpan.FromDays(60));
        real.AddAfter("soon", TimeSpan.FromMilliseconds(10));

        Assert.Equal("soon", (await real.GetAsync().AsTask().WaitAsync(Eventually.DefaultTimeout)).Key);
        Assert.Equal(0, real.Count);

        using var queue = NewQueue();
        queue.AddAfter("renewal", TimeSpan.FromDays(60));
        _time.Advance(TimeSpan.FromDays(60) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, queue.Count);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("renewal", (await queue.GetAsync()).Key);
    }

    [Fact]
    public void AddAfter_twice_for_one_key_keeps_the_earlier_time()
    {
        using var queue = NewQueue();
        queue.AddAfter("a", TimeSpan.FromSeconds(10));
        queue.AddAfter("a", TimeSpan.FromSeconds(2));
        queue.AddAfter("a", TimeSpan.FromSeconds(5));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void Delayed_keys_come_out_in_due_order()
    {
        using var queue = NewQueue();
        queue.AddAfter("late", TimeSpan.FromSeconds(3));
        queue.AddAfter("early", TimeSpan.FromSeconds(1));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Count);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public async Task AddRateLimited_waits_longer_after_each_failure_and_Forget_starts_over()
    {
        using var queue = NewQueue();

        async Task<TimeSpan> RetryDelayAsync()
        {
            queue.AddRateLimited("a");
            var waited = TimeSpan.Zero;
            while (queue.Count == 0)
            {
                _time.Advance(TimeSpan.FromMilliseconds(1));
                waited += TimeSpan.FromMilliseconds(1);
            }

            queue.Done((await queue.GetAsync()).Key);
            return waited;
        }

        Assert.Equal(TimeSpan.FromMilliseconds(5), await RetryDelayAsync());
        Assert.Equal(TimeSpan.FromMilliseconds(10), await RetryDelayAsync());
        Assert.Equal(TimeSpan.FromMilliseconds(20), await RetryDelayAsync());
        Assert.Equal(3, queue.NumRequeues("a"));

        queue.Forget("a");

        Assert.Equal(0, queue.NumRequeues("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), await RetryDelayAsync());
    }

    [Fact]
    public async Task ShutDown_wakes_waiting_workers_but_still_hands_out_keys_already_queued()
    {
        using var queue = NewQueue();
        var waiting = queue.GetAsync().AsTask();
        queue.ShutDown();
        Assert.True((await waiting.WaitAsync(Eventually.DefaultTimeout)).IsShutDown);

        using var queue2 = NewQueue();
        queue2.Add("a");
        queue2.ShutDown();
        queue2.Add("b");
        Assert.Equal("a", (await queue2.GetAsync()).Key);
        Assert.True((await queue2.GetAsync()).IsShutDown);
    }

    [Fact]
    public async Task ShutDownWithDrain_waits_until_keys_in_flight_are_done()
    {
        using var queue = NewQueue();
        queue.Add("a");
        var item = await queue.GetAsync();

        var drained = queue.ShutDownWithDrainAsync();
        await Eventually.NeverAsync(() => drained.IsCompleted, "drain must wait for the key in flight");

        queue.Done(item.Key);
        await drained.WaitAsync(Eventually.DefaultTimeout);
    }

    [Fact]
    public async Task A_cancelled_GetAsync_does_not_swallow_the_next_key()
    {
        using var queue = NewQueue();
        using var cts = new CancellationTokenSource();
        var cancelled = queue.GetAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        queue.Add("a");

        Assert.Equal("a", (await queue.GetAsync().AsTask().WaitAsync(Eventually.DefaultTimeout)).Key);
    }

    [Fact]
    public async Task Depth_adds_retries_and_latency_are_measured()
    {
        using var metrics = new RuntimeMetrics();
        using var recorder = new MetricRecorder(metrics);
        using var queue = NewQueue(metrics);

        queue.Add("a");
        queue.Add("a");
        queue.Add("b");
        Assert.Equal(2, recorder.Sum("workqueue_adds_total", "name=test"));
        Assert.Equal(2, recorder.Sum("workqueue_depth", "name=test"));

        _time.Advance(TimeSpan.FromSeconds(3));
        var item = await queue.GetAsync();
        Assert.Equal(1, recorder.Sum("workqueue_depth", "name=test"));
        Assert.Equal(3, recorder.Sum("workqueue_queue_duration_seconds", "name=test"), precision: 3);

        _time.Advance(TimeSpan.FromSeconds(2));
        queue.Done(item.Key);
        Assert.Equal(2, recorder.Sum("workqueue_work_duration_seconds", "name=test"), precision: 3);

        queue.AddRateLimited("c");
        Assert.Equal(1, recorder.Sum("workqueue_retries_total", "name=test"));
    }
}
