using BuildPool.Runtime.Client;
using BuildPool.Runtime.Controllers;
using BuildPool.Runtime.Informers;
using BuildPool.Runtime.Metrics;
using BuildPool.Runtime.Tests.Support;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Runtime.Tests.Controllers;

public sealed class ControllerTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeListWatcher<V1ConfigMap> _owners = new();
    private readonly FakeListWatcher<V1Secret> _children = new();
    private readonly Informer<V1ConfigMap> _ownerInformer;
    private readonly Informer<V1Secret> _childInformer;
    private readonly ScriptedReconciler<V1ConfigMap> _reconciler = new();
    private readonly RuntimeMetrics _metrics = new();
    private readonly MetricRecorder _recorder;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private Controller<V1ConfigMap>? _controller;

    public ControllerTests()
    {
        _ownerInformer = new Informer<V1ConfigMap>(_owners, _time);
        _childInformer = new Informer<V1Secret>(_children, _time);
        _recorder = new MetricRecorder(_metrics);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_running).WaitAsync(Eventually.DefaultTimeout);
        _controller?.Dispose();
        _recorder.Dispose();
        _metrics.Dispose();
        _stop.Dispose();
    }

    [Fact]
    public async Task It_reconciles_nothing_until_every_informer_has_synced()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        _children.ListGate = new TaskCompletionSource();
        var childSyncedAtEachCall = new List<bool>();
        _reconciler.OnCall = _ => childSyncedAtEachCall.Add(_childInformer.HasSynced);

        Start(NewController().Owns(_childInformer));
        await _ownerInformer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Eventually.DefaultTimeout);
        await Eventually.NeverAsync(() => _reconciler.Calls.Count > 0, "no reconcile may run before the child cache is synced");

        _children.ListGate.SetResult();

        await Eventually.TrueAsync(() => _reconciler.Calls.Count == 1, "the owner is reconciled once the caches are synced");
        Assert.All(childSyncedAtEachCall, Assert.True);
    }

    [Fact]
    public async Task A_child_event_enqueues_its_controlling_owner_and_nothing_else()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        Start(NewController().Owns(_childInformer));
        await Eventually.TrueAsync(() => _reconciler.CallsFor("pool") == 1, "the initial reconcile ran");
        var watch = await _children.NextWatchAsync();

        watch.Send(WatchEventType.Added, Objects.Secret("child", "11", owners: Objects.ControllerRef("ConfigMap", "pool")));
        watch.Send(WatchEventType.Added, Objects.Secret("not-controller", "12", owners: Objects.ControllerRef("ConfigMap", "other", controller: false)));
        watch.Send(WatchEventType.Added, Objects.Secret("other-kind", "13", owners: Objects.ControllerRef("Deployment", "other", "apps/v1")));
        watch.Send(WatchEventType.Added, Objects.Secret("other-group", "14", owners: Objects.ControllerRef("ConfigMap", "other", "example.com/v1")));
        watch.Send(WatchEventType.Deleted, Objects.Secret("child", "15", owners: Objects.ControllerRef("ConfigMap", "pool")));
        await Eventually.TrueAsync(() => _childInformer.LastResourceVersion == "15", "the child events are applied");

        await Eventually.TrueAsync(() => _reconciler.CallsFor("pool") >= 2, "the owner is reconciled again for its child");
        Assert.Equal(0, _reconciler.CallsFor("other"));
        Assert.All(_reconciler.Calls, c => Assert.Equal(new ReconcileRequest("default", "pool"), c));
    }

    [Fact]
    public async Task A_failing_reconcile_is_retried_with_growing_backoff_and_counted_as_an_error()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        _reconciler.Behavior = (_, attempt) => attempt <= 3 ? throw new InvalidOperationException("boom") : ReconcileResult.Done;
        Start(NewController());
        await Eventually.TrueAsync(() => _reconciler.Calls.Count == 1, "the first attempt ran");

        // Backoff: 5 ms, then 10 ms, then 20 ms. Each step first waits until the failure has been
        // counted, which happens after the retry was scheduled, so the clock moves only after that.
        await FailuresCountedAsync(1);
        await Eventually.NeverAsync(() => _reconciler.Calls.Count > 1, "no retry before fake time moves");
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await Eventually.TrueAsync(() => _reconciler.Calls.Count == 2, "the second attempt runs after 5 ms");
        await FailuresCountedAsync(2);
        _time.Advance(TimeSpan.FromMilliseconds(9));
        await Eventually.NeverAsync(() => _reconciler.Calls.Count > 2, "the third attempt waits 10 ms");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => _reconciler.Calls.Count == 3, "the third attempt runs after 10 ms");
        await FailuresCountedAsync(3);
        _time.Advance(TimeSpan.FromMilliseconds(19));
        await Eventually.NeverAsync(() => _reconciler.Calls.Count > 3, "the fourth attempt waits 20 ms");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => _reconciler.Calls.Count == 4, "the fourth attempt runs after 20 ms");

        await Eventually.TrueAsync(() => _recorder.Sum("controller_runtime_reconcile_total", "result=success") == 1, "the success is counted");
        Assert.Equal(3, _recorder.Sum("controller_runtime_reconcile_errors_total", "controller=pools"));
        Assert.Equal(3, _recorder.Sum("controller_runtime_reconcile_total", "controller=pools", "result=error"));
        Assert.Equal(0, _controller!.Queue.NumRequeues(new ReconcileRequest("default", "pool")));
    }

    [Fact]
    public async Task A_conflict_is_retried_without_counting_an_error()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        _reconciler.Behavior = (_, attempt) => attempt == 1 ? throw new ConflictException("stale") : ReconcileResult.Done;
        Start(NewController());

        await Eventually.AdvanceUntilAsync(_time, TimeSpan.FromMilliseconds(5), () => _reconciler.Calls.Count == 2, "the conflict is retried");

        await Eventually.TrueAsync(() => _recorder.Sum("controller_runtime_reconcile_total", "result=success") == 1, "the retry succeeds");
        Assert.Equal(1, _recorder.Sum("controller_runtime_reconcile_total", "controller=pools", "result=conflict"));
        Assert.Equal(0, _recorder.Sum("controller_runtime_reconcile_errors_total"));
        Assert.Equal(0, _recorder.Sum("controller_runtime_reconcile_total", "result=error"));
    }

    /// <summary>
    /// Issue 26: deleting an object while its reconcile wrote its status logged a failed reconcile
    /// with a stack trace and retried (seen scraping the operator's logs over the integration tests).
    /// </summary>
    [Fact]
    public async Task A_404_for_the_reconciled_object_itself_is_no_error_and_no_retry()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        _reconciler.Behavior = (_, _) => throw KubernetesApiException.Create(System.Net.HttpStatusCode.NotFound, null, "PUT /api/v1/namespaces/default/configmaps/pool/status");
        Start(NewController());

        await Eventually.TrueAsync(() => _recorder.Sum("controller_runtime_reconcile_total", "result=gone") == 1, "the reconcile ends as gone");
        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.NeverAsync(() => _reconciler.Calls.Count > 1, "no retry for an object that is gone");
        Assert.Equal(0, _recorder.Sum("controller_runtime_reconcile_errors_total"));
    }

    [Fact]
    public async Task A_404_for_another_object_is_still_an_error_and_retried()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        _reconciler.Behavior = (_, attempt) => attempt == 1
            ? throw KubernetesApiException.Create(System.Net.HttpStatusCode.NotFound, null, "GET /api/v1/namespaces/default/secrets/pool-ca")
            : ReconcileResult.Done;
        Start(NewController());

        await Eventually.AdvanceUntilAsync(_time, TimeSpan.FromMilliseconds(5), () => _reconciler.Calls.Count == 2, "the failure is retried");
        Assert.Equal(1, _recorder.Sum("controller_runtime_reconcile_errors_total", "controller=pools"));
    }

    [Fact]
    public async Task Requeue_after_reconciles_again_only_when_the_delay_has_passed()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        _reconciler.Behavior = (_, attempt) => attempt == 1 ? ReconcileResult.After(TimeSpan.FromSeconds(30)) : ReconcileResult.Done;
        Start(NewController());
        await Eventually.TrueAsync(() => _recorder.Sum("controller_runtime_reconcile_total", "result=requeue_after") == 1, "the first reconcile asked for a requeue");

        _time.Advance(TimeSpan.FromSeconds(29));
        await Eventually.NeverAsync(() => _reconciler.Calls.Count > 1, "nothing before 30 s");
        _time.Advance(TimeSpan.FromSeconds(1));

        await Eventually.TrueAsync(() => _reconciler.Calls.Count == 2, "the requeue fires at 30 s");
    }

    [Fact]
    public async Task Resync_reconciles_every_cached_object_again_each_period()
    {
        _owners.SetList("10", Objects.ConfigMap("a", "5"), Objects.ConfigMap("b", "6"));
        Start(NewController(resync: TimeSpan.FromMinutes(1)));
        await Eventually.TrueAsync(() => _reconciler.Calls.Count == 2, "the initial reconciles ran");

        _time.Advance(TimeSpan.FromSeconds(59));
        await Eventually.NeverAsync(() => _reconciler.Calls.Count > 2, "no resync before the period");
        _time.Advance(TimeSpan.FromSeconds(1));

        await Eventually.TrueAsync(() => _reconciler.CallsFor("a") == 2 && _reconciler.CallsFor("b") == 2, "both objects are reconciled again");
    }

    [Fact]
    public async Task Events_during_a_reconcile_lead_to_exactly_one_more_reconcile_of_that_key()
    {
        _owners.SetList("10", Objects.ConfigMap("pool", "5"));
        var release = new TaskCompletionSource();
        var blocking = new BlockingReconciler(release.Task);
        _controller = new Controller<V1ConfigMap>(new ControllerOptions { Name = "pools", Workers = 4, ResyncPeriod = null }, _ownerInformer, blocking, _time, metrics: _metrics);
        Start(_controller);
        await Eventually.TrueAsync(() => blocking.Started == 1, "the first reconcile is running");
        var watch = await _owners.NextWatchAsync();

        watch.Send(WatchEventType.Modified, Objects.ConfigMap("pool", "11"));
        watch.Send(WatchEventType.Modified, Objects.ConfigMap("pool", "12"));
        await Eventually.TrueAsync(() => _ownerInformer.LastResourceVersion == "12", "the events are applied");
        await Eventually.NeverAsync(() => blocking.Started > 1, "a key is never reconciled by two workers at once");
        release.SetResult();

        await Eventually.TrueAsync(() => blocking.Started == 2, "the key is reconciled again after the first reconcile");
        Assert.Equal(1, blocking.MaxConcurrent);
    }

    private Task FailuresCountedAsync(int count) =>
        Eventually.TrueAsync(() => _recorder.Sum("controller_runtime_reconcile_errors_total") == count, $"{count} failures are counted");

    private Controller<V1ConfigMap> NewController(TimeSpan? resync = null)
    {
        _controller = new Controller<V1ConfigMap>(
            new ControllerOptions { Name = "pools", Workers = 2, ResyncPeriod = resync },
            _ownerInformer,
            _reconciler,
            _time,
            metrics: _metrics);
        return _controller;
    }

    private void Start(Controller<V1ConfigMap> controller)
    {
        _running.Add(_ownerInformer.RunAsync(_stop.Token));
        _running.Add(_childInformer.RunAsync(_stop.Token));
        _running.Add(controller.RunAsync(_stop.Token));
    }

    private sealed class BlockingReconciler(Task release) : IReconciler<V1ConfigMap>
    {
        private int _started;
        private int _active;
        private int _maxConcurrent;

        public int Started => Volatile.Read(ref _started);

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _started);
            var active = Interlocked.Increment(ref _active);
            InterlockedMax(ref _maxConcurrent, active);
            try
            {
                await release.WaitAsync(cancellationToken);
                return ReconcileResult.Done;
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }
}
