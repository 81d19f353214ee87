using BuildPool.Runtime.Leadership;
using BuildPool.Runtime.Metrics;
using BuildPool.Runtime.Tests.Support;
using BuildPool.TestDoubles;

namespace BuildPool.Runtime.Tests.Leadership;

/// <summary>
/// The client's <c>LeaderElector</c> reads the wall clock, so these tests use real time with a
/// short lease; they wait on conditions, never for fixed times.
/// </summary>
public sealed class LeaderElectionRunnerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly InMemoryLease _lease = new();
    private readonly Lock _gate = new();
    private readonly List<string> _leaders = [];
    private int _reconciling;
    private int _maxReconciling;

    [Fact]
    public async Task One_candidate_leads_and_when_it_stops_the_other_takes_over_without_overlap()
    {
        using var metrics = new RuntimeMetrics();
        using var recorder = new MetricRecorder(metrics);
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var a = Candidate("a", metrics);
        var b = Candidate("b", metrics);
        var runA = a.RunAsync(token => ReconcileWhileLeadingAsync("a", token), stopA.Token);
        var runB = b.RunAsync(token => ReconcileWhileLeadingAsync("b", token), stopB.Token);

        await Eventually.TrueAsync(() => Leaders.Count == 1, "one candidate leads", Timeout);
        var first = Leaders[0];
        Assert.Equal(first, _lease.Holder);
        Assert.Equal(1, recorder.Sum("leader_election_master_status", "name=operator"));

        await (first == "a" ? stopA : stopB).CancelAsync();
        await (first == "a" ? runA : runB).WaitAsync(Timeout);

        await Eventually.TrueAsync(() => Leaders.Count == 2, "the other candidate takes over", Timeout);
        Assert.NotEqual(first, Leaders[1]);
        Assert.Equal(1, Volatile.Read(ref _maxReconciling));
        Assert.Equal(1, recorder.Sum("leader_election_master_status", "name=operator"));

        await stopA.CancelAsync();
        await stopB.CancelAsync();
        await Task.WhenAll(runA, runB).WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_leader_that_cannot_renew_stops_reconciling_before_another_takes_over()
    {
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var a = Candidate("a");
        var runA = a.RunAsync(token => ReconcileWhileLeadingAsync("a", token), stopA.Token);
        await Eventually.TrueAsync(() => Leaders.Count == 1, "a leads", Timeout);
        var b = Candidate("b");
        var runB = b.RunAsync(token => ReconcileWhileLeadingAsync("b", token), stopB.Token);

        _lease.Partition("a");

        // Losing the lease ends a's term: RunAsync returns (the manager then stops the process).
        await runA.WaitAsync(Timeout);
        Assert.False(a.IsLeader);
        await Eventually.TrueAsync(() => Leaders.Count == 2, "b takes over", Timeout);
        Assert.Equal(["a", "b"], Leaders);
        Assert.Equal(1, Volatile.Read(ref _maxReconciling));

        await stopB.CancelAsync();
        await runB.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_leader_that_stops_releases_the_lease_so_the_standby_leads_at_its_next_retry_not_when_the_lease_runs_out()
    {
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var longLease = TimeSpan.FromSeconds(30);
        var a = Candidate("a", leaseDuration: longLease);
        var runA = a.RunAsync(token => ReconcileWhileLeadingAsync("a", token), stopA.Token);
        await Eventually.TrueAsync(() => Leaders.Count == 1, "a leads", Timeout);
        var b = Candidate("b", leaseDuration: longLease);
        var runB = b.RunAsync(token => ReconcileWhileLeadingAsync("b", token), stopB.Token);

        var stoppedAt = DateTimeOffset.UtcNow;
        await stopA.CancelAsync();
        await runA.WaitAsync(Timeout);
        await Eventually.TrueAsync(() => Leaders.Count == 2, "b takes over", Timeout);

        Assert.True(DateTimeOffset.UtcNow - stoppedAt < TimeSpan.FromSeconds(5), $"b took over {(DateTimeOffset.UtcNow - stoppedAt).TotalSeconds:F1} s after a stopped");
        Assert.Equal(["a", "b"], Leaders);
        Assert.Equal(1, Volatile.Read(ref _maxReconciling));
        await stopB.CancelAsync();
        await runB.WaitAsync(Timeout);
    }

    private IReadOnlyList<string> Leaders
    {
        get
        {
            lock (_gate)
            {
                return [.. _leaders];
            }
        }
    }

    private LeaderElectionRunner Candidate(string identity, RuntimeMetrics? metrics = null, TimeSpan? leaseDuration = null) => new(
        new InMemoryLock(_lease, identity),
        new LeaderElectionOptions
        {
            LeaseName = "operator",
            LeaseNamespace = "system",
            Identity = identity,
            LeaseDuration = leaseDuration ?? TimeSpan.FromSeconds(2),
            RenewDeadline = TimeSpan.FromSeconds(1),
            RetryPeriod = TimeSpan.FromMilliseconds(100),
        },
        metrics: metrics);

    /// <summary>Stands in for the controllers: "reconciles" continuously until its token is cancelled.</summary>
    private async Task ReconcileWhileLeadingAsync(string identity, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _leaders.Add(identity);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var now = Interlocked.Increment(ref _reconciling);
            int max;
            while ((max = Volatile.Read(ref _maxReconciling)) < now && Interlocked.CompareExchange(ref _maxReconciling, now, max) != max)
            {
            }

            try
            {
                await Task.Delay(5, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref _reconciling);
            }
        }
    }
}
