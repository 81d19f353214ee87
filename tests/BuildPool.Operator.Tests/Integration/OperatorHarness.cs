using BuildPool.Api.V1Alpha1;
using BuildPool.LocalApi;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// The real operator (informers, controllers, reconcilers) against the local Kubernetes API with
/// the generated CRDs, and a test-double daemon standing in for every builder.
/// </summary>
internal sealed class OperatorHarness : IAsyncDisposable
{
    private CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;

    private OperatorHarness(LocalApiServer server, FakeBuildKitDaemon daemon)
    {
        Server = server;
        Daemon = daemon;
        Kubernetes = server.CreateClient();
        Pools = new ResourceClient<BuilderPool>(Kubernetes);
        Volumes = new ResourceClient<CacheVolume>(Kubernetes);
        Deployments = new ResourceClient<V1Deployment>(Kubernetes);
        Claims = new ResourceClient<V1PersistentVolumeClaim>(Kubernetes);
        Leases = new ResourceClient<V1Lease>(Kubernetes);
    }

    // BUILDPOOL_TEST_LOGS=1 shows the operator's own log while a test runs.
    private static readonly ILoggerFactory Logging =
        Environment.GetEnvironmentVariable("BUILDPOOL_TEST_LOGS") == "1"
            ? LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;

    public LocalApiServer Server { get; }

    public FakeBuildKitDaemon Daemon { get; }

    public Kubernetes Kubernetes { get; }

    public ResourceClient<BuilderPool> Pools { get; }

    public ResourceClient<CacheVolume> Volumes { get; }

    public ResourceClient<V1Deployment> Deployments { get; }

    public ResourceClient<V1PersistentVolumeClaim> Claims { get; }

    public ResourceClient<V1Lease> Leases { get; }

    /// <param name="resolveService">Where a cluster host name the operator dials really is (a registry's Service); null leaves them unresolved.</param>
    public static async Task<OperatorHarness> StartAsync(OperatorOptions? options = null, bool startOperator = true, TimeProvider? time = null, ILoggerFactory? logging = null, IBuilderConnector? connector = null, Func<System.Net.DnsEndPoint, System.Net.EndPoint?>? resolveService = null)
    {
        var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds, BookmarkInterval = TimeSpan.FromSeconds(1) });
        await server.StartAsync();
        var daemon = await FakeBuildKitDaemon.StartAsync();
        var harness = new OperatorHarness(server, daemon);
        if (startOperator)
        {
            harness.StartOperator(options, time, logging, connector, resolveService);
        }

        return harness;
    }

    public void StartOperator(OperatorOptions? options = null, TimeProvider? time = null, ILoggerFactory? logging = null, IBuilderConnector? connector = null, Func<System.Net.DnsEndPoint, System.Net.EndPoint?>? resolveService = null)
    {
        var (manager, _) = BuildPoolOperator.Create(
            Kubernetes,
            options ?? new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1), SecretRefreshInterval = TimeSpan.FromSeconds(2) },
            time ?? TimeProvider.System,
            logging ?? Logging,
            connector: connector ?? new FixedBuilderConnector(Daemon.Address),
            resolveService: resolveService);
        if (_stop.IsCancellationRequested)
        {
            _stop.Dispose();
            _stop = new CancellationTokenSource();
        }

        _run = manager.RunAsync(_stop.Token);
    }

    /// <summary>Creates <paramref name="pool"/> and plays the kubelet until the pool reports <c>Ready=True</c>.</summary>
    public async Task<BuilderPool> CreateReadyPoolAsync(BuilderPool pool)
    {
        await Pools.CreateAsync(pool);
        return await WaitForReadyPoolAsync(pool.Metadata.NamespaceProperty, pool.Metadata.Name);
    }

    /// <summary>Plays the kubelet (<see cref="SimulateReadyDeploymentsAsync"/>) until the pool reports <c>Ready=True</c>.</summary>
    public async Task<BuilderPool> WaitForReadyPoolAsync(string @namespace, string name) =>
        (await WaitAsync(async () =>
        {
            await SimulateReadyDeploymentsAsync(@namespace);
            return await Pools.GetAsync(@namespace, name);
        }, p => p?.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True") == true, "the pool to become Ready"))!;

    /// <summary>Plays the kubelet and deployment controller: the builder pods of every running Deployment become ready.</summary>
    public Task SimulateReadyDeploymentsAsync(string @namespace) => FakeKubelet.ReadyDeploymentsAsync(Deployments, @namespace);

    public Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null) =>
        Eventually.WaitAsync(async () =>
        {
            if (_run.IsFaulted)
            {
                await _run;
            }

            return await probe();
        }, done, what, timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>
    /// What a pool's gateway does: merge-patches signals (<see cref="GatewaySignals"/>) onto the
    /// pool's signal Lease, once the operator has created it. A null value removes the signal.
    /// </summary>
    public async Task SignalAsync(string @namespace, string pool, params KeyValuePair<string, string?>[] signals)
    {
        var lease = GatewaySignals.LeaseName(pool);
        await WaitAsync(() => Leases.GetAsync(@namespace, lease), l => l is not null, $"the signal Lease of pool {pool}");
        var annotations = signals.ToDictionary(s => s.Key, s => s.Value);
        await Leases.PatchAsync(@namespace, lease, new { metadata = new { annotations } });
    }

    /// <summary>A Dedicated demand for <paramref name="key"/>, as the gateway writes it for a build of <paramref name="tenant"/>.</summary>
    public Task DemandAsync(string @namespace, string pool, string key, string? tenant = null)
    {
        var signal = GatewaySignals.Demand(key, tenant, DateTimeOffset.UtcNow);
        return SignalAsync(@namespace, pool, new KeyValuePair<string, string?>(signal.Key, signal.Value));
    }

    public async Task StopOperatorAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopOperatorAsync();
        _stop.Dispose();
        Kubernetes.Dispose();
        await Daemon.DisposeAsync();
        await Server.DisposeAsync();
    }
}
