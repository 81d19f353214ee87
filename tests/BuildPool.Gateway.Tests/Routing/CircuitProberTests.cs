using System.Collections.Concurrent;
using BuildPool.Gateway.Routing;
using BuildPool.TestDoubles;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Gateway.Tests.Routing;

public sealed class CircuitProberTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();
    private readonly BackendCircuits _circuits;
    private readonly ConcurrentQueue<string> _recovered = new();

    public CircuitProberTests()
    {
        var placement = new Placement(new PlacementOptions());
        placement.Update([new Backend("a"), new Backend("b")]);
        _circuits = new BackendCircuits(placement, failureThreshold: 1);
        _circuits.RecordFailure("a");
    }

    [Fact]
    public async Task An_open_builder_that_accepts_a_connect_is_back_in_placement_at_the_next_probe()
    {
        using var stop = new CancellationTokenSource();
        var probing = new CircuitProber(_circuits, (_, _) => Task.FromResult(true), _recovered.Enqueue, Interval, _time).RunAsync(stop.Token);

        _time.Advance(Interval - TimeSpan.FromSeconds(1));
        Assert.True(_circuits.IsOpen("a"));
        _time.Advance(TimeSpan.FromSeconds(1));

        await Eventually.TrueAsync(() => !_circuits.IsOpen("a"), "builder a's circuit to close");
        Assert.Equal(["a"], _recovered);
        await stop.CancelAsync();
        await probing;
    }

    [Fact]
    public async Task A_probe_that_hangs_is_given_up_after_the_attempt_timeout_on_the_injected_clock_and_tried_again()
    {
        var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var givenUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        using var stop = new CancellationTokenSource();
        var probing = new CircuitProber(_circuits, ConnectAsync, _recovered.Enqueue, Interval, _time).RunAsync(stop.Token);

        _time.Advance(Interval);
        await hung.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _time.Advance(CircuitProber.AttemptTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(givenUp.Task.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => givenUp.Task.IsCompleted, "the hung probe to be given up");
        Assert.True(_circuits.IsOpen("a"));

        _time.Advance(Interval - CircuitProber.AttemptTimeout);
        await Eventually.TrueAsync(() => !_circuits.IsOpen("a"), "the second probe to close builder a's circuit");
        Assert.Equal(2, Volatile.Read(ref attempts));
        await stop.CancelAsync();
        await probing;

        // The first probe never connects: it ends only when its token is cancelled.
        Task<bool> ConnectAsync(string id, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref attempts) > 1)
            {
                return Task.FromResult(true);
            }

            var never = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            cancellationToken.Register(() =>
            {
                givenUp.TrySetResult();
                never.TrySetCanceled(cancellationToken);
            });
            hung.TrySetResult();
            return never.Task;
        }
    }
}
