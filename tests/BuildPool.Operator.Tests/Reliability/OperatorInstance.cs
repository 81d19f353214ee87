using System.Collections.Concurrent;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Leadership;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// One operator "process" against a harness's API server: its own HTTP client (so its requests
/// are told apart in the <see cref="ApiLog"/> and it can be killed on its own), its own builder
/// connector (which records when it reconciled a volume far enough to talk to a builder), and
/// optionally leader election on the emulator's Lease.
/// </summary>
internal sealed class OperatorInstance : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Kubernetes _client;
    private readonly Task _run;

    private OperatorInstance(string name, Kubernetes client, KillSwitch kill, RecordingConnector connector, LeaderElectionRunner? election, Func<CancellationToken, Task> run)
    {
        Name = name;
        _client = client;
        Kill = kill;
        Connector = connector;
        Election = election;
        _run = Task.Run(() => run(_stop.Token), CancellationToken.None);
    }

    public string Name { get; }

    public KillSwitch Kill { get; }

    public RecordingConnector Connector { get; }

    public LeaderElectionRunner? Election { get; }

    /// <summary>True once the instance's loops have ended, whatever the reason.</summary>
    public bool HasExited => _run.IsCompleted;

    public static OperatorInstance Start(
        OperatorHarness harness,
        string name,
        ApiLog log,
        DataSafetyChecker? safety = null,
        OperatorOptions? options = null,
        LeaderElectionOptions? leaderElection = null)
    {
        var kill = new KillSwitch();
        var client = new Kubernetes(
            new KubernetesClientConfiguration { Host = harness.Server.BaseAddress.ToString().TrimEnd('/') },
            new InstrumentedHandler(name, log, kill, safety));
        var election = leaderElection is null
            ? null
            : new LeaderElectionRunner(LeaderElectionRunner.CreateLeaseLock(client, leaderElection), leaderElection);
        var connector = new RecordingConnector(new FixedBuilderConnector(harness.Daemon.Address));
        var (manager, _) = BuildPoolOperator.Create(
            client,
            options ?? new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1) },
            TimeProvider.System,
            NullLoggerFactory.Instance,
            leaderElection: election,
            connector: connector);
        return new OperatorInstance(name, client, kill, connector, election, manager.RunAsync);
    }

    /// <summary>Dies now: every request from here on fails, then the loops are stopped.</summary>
    public async Task KillAsync(string why = "killed by the test")
    {
        Kill.KillNow(why);
        await StopAsync();
    }

    /// <summary>
    /// Stops the loops and waits for them. After a kill the loops see nothing but failures,
    /// so whatever they end with is expected; a clean stop must end cleanly.
    /// </summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (Exception) when (Kill.IsDead || _stop.IsCancellationRequested)
        {
            // Cancellation, or a loop that failed on the dead connection while stopping.
        }
    }

    /// <summary>Throws if the instance stopped on its own while it should be running.</summary>
    public async Task ThrowIfFailedAsync()
    {
        if (_run.IsCompleted && !_stop.IsCancellationRequested && !Kill.IsDead)
        {
            await _run;
            throw new InvalidOperationException($"operator instance {Name} exited on its own");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _client.Dispose();
    }

    /// <summary>Records when this instance connected to a builder: only a reconcile of a volume does that.</summary>
    internal sealed class RecordingConnector(IBuilderConnector inner) : IBuilderConnector
    {
        private readonly ConcurrentQueue<(DateTimeOffset At, string Volume)> _connects = new();

        public IReadOnlyList<(DateTimeOffset At, string Volume)> Connects => [.. _connects];

        public BuildKitClient Connect(CacheVolume volume)
        {
            _connects.Enqueue((DateTimeOffset.UtcNow, volume.Metadata.Name));
            return inner.Connect(volume);
        }
    }
}
