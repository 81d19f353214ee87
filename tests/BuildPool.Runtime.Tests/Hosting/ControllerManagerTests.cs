using BuildPool.Runtime.Controllers;
using BuildPool.Runtime.Hosting;
using BuildPool.Runtime.Informers;
using BuildPool.Runtime.Leadership;
using BuildPool.Runtime.Tests.Support;
using BuildPool.TestDoubles;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Runtime.Tests.Hosting;

public sealed class ControllerManagerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task It_runs_informers_and_controllers_until_stopped_then_returns_cleanly()
    {
        var api = new FakeListWatcher<V1ConfigMap>();
        api.SetList("10", Objects.ConfigMap("pool", "5"));
        var informer = new Informer<V1ConfigMap>(api, _time);
        var reconciler = new ScriptedReconciler<V1ConfigMap>();
        using var controller = new Controller<V1ConfigMap>(new ControllerOptions { Name = "pools" }, informer, reconciler, _time);
        using var manager = new ControllerManager().AddInformer(informer).AddController(controller);
        using var stop = new CancellationTokenSource();

        var run = manager.RunAsync(stop.Token);
        await Eventually.TrueAsync(() => reconciler.Calls.Count == 1, "the object is reconciled");
        await stop.CancelAsync();

        await run.WaitAsync(Eventually.DefaultTimeout);
    }

    [Fact]
    public async Task A_controller_loop_that_dies_stops_everything_and_surfaces_the_failure()
    {
        var api = new FakeListWatcher<V1ConfigMap>();
        var informer = new Informer<V1ConfigMap>(api, _time);
        var healthy = new BlockingRunnable("healthy");
        using var manager = new ControllerManager()
            .AddInformer(informer)
            .AddController(healthy)
            .AddController(new CrashingRunnable());

        var error = await Assert.ThrowsAsync<LoopExitedException>(() => manager.RunAsync(CancellationToken.None).WaitAsync(Eventually.DefaultTimeout));

        Assert.Contains("controller crashing", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.True(healthy.WasCancelled);
    }

    [Fact]
    public async Task Losing_leadership_stops_the_controllers_and_the_manager()
    {
        var lease = new InMemoryLease();
        var election = new LeaderElectionRunner(
            new InMemoryLock(lease, "me"),
            new LeaderElectionOptions
            {
                LeaseName = "operator",
                LeaseNamespace = "system",
                Identity = "me",
                LeaseDuration = TimeSpan.FromSeconds(2),
                RenewDeadline = TimeSpan.FromSeconds(1),
                RetryPeriod = TimeSpan.FromMilliseconds(100),
            });
        var controller = new BlockingRunnable("pools");
        using var manager = new ControllerManager(election).AddController(controller);

        var run = manager.RunAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => controller.Started, "the controller runs once leading", TimeSpan.FromSeconds(20));
        lease.Partition("me");

        await Assert.ThrowsAsync<LoopExitedException>(() => run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(controller.WasCancelled);
    }

    private sealed class CrashingRunnable : IRunnable
    {
        public string Name => "crashing";

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new InvalidOperationException("reconcile loop bug");
        }
    }

    private sealed class BlockingRunnable(string name) : IRunnable
    {
        private volatile bool _started;
        private volatile bool _cancelled;

        public string Name => name;

        public bool Started => _started;

        public bool WasCancelled => _cancelled;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            _started = true;
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                _cancelled = true;
            }
        }
    }
}
