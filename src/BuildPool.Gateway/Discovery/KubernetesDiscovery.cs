using System.Threading.Channels;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tenants;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using AssignmentMode = BuildPool.Gateway.Routing.AssignmentMode;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// <c>buildpool gateway --pool</c>: the builders are the pool's CacheVolumes. Reads the
/// BuilderPool once for the routing settings, then follows it and its volumes with informers and
/// swaps the gateway's backend set on every change; the <see cref="Starter"/> talks back to the
/// operator through annotations.
/// </summary>
public sealed class KubernetesDiscovery
{
    private readonly KubernetesTransport _transport;
    private readonly KubernetesDiscoveryOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<bool> _dirty = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private PoolSettings _current;
    private IBackendTarget? _gateway;

    private KubernetesDiscovery(KubernetesTransport transport, string @namespace, string pool, PoolSettings settings, KubernetesDiscoveryOptions options)
    {
        _transport = transport;
        _options = options;
        _loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<KubernetesDiscovery>();
        Namespace = @namespace;
        Pool = pool;
        Settings = settings;
        _current = settings;
        Signals = new SignalLeaseWriter(
            new ResourceClient<k8s.Models.V1Lease>(transport),
            @namespace,
            pool,
            options.TimeProvider,
            options.SignalRetry,
            _loggers.CreateLogger<SignalLeaseWriter>());
        Starter = new KubernetesBuilderStarter(
            Signals,
            pool,
            settings.StartTimeout,
            options.TimeProvider,
            options.Annotations,
            _loggers.CreateLogger<KubernetesBuilderStarter>());
        Tenants = new SecretBindingWatcher(transport, @namespace, pool, options.TimeProvider, _loggers);
        Forks = new Isolation.KubernetesForkRequester(
            Signals,
            settings.Forks,
            settings.StartTimeout,
            options.TimeProvider,
            _loggers.CreateLogger<Isolation.KubernetesForkRequester>())
        {
            RefreshInterval = options.ForkRequestRefresh,
        };
    }

    public string Namespace { get; }

    public string Pool { get; }

    /// <summary>The pool's settings when the gateway started (routing settings stay these until a restart).</summary>
    public PoolSettings Settings { get; }

    public KubernetesBuilderStarter Starter { get; }

    /// <summary>Writes the starter's and the fork requester's signals on the pool's signal Lease.</summary>
    public SignalLeaseWriter Signals { get; }

    /// <summary>The pool's ClientAccess SecretBindings: who may build (<see cref="GatewayServices.Tenants"/>).</summary>
    public SecretBindingWatcher Tenants { get; }

    /// <summary>Asks the operator for forks of the pool's volumes (overflow and untrusted builds).</summary>
    public Isolation.KubernetesForkRequester Forks { get; }

    /// <summary>Reads the pool; throws <see cref="DiscoveryException"/> when it is missing or unusable.</summary>
    public static async Task<KubernetesDiscovery> ConnectAsync(
        KubernetesTransport transport,
        string @namespace,
        string pool,
        KubernetesDiscoveryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(pool);
        var builderPool = await new ResourceClient<BuilderPool>(transport).GetAsync(@namespace, pool, cancellationToken).ConfigureAwait(false)
            ?? throw new DiscoveryException($"BuilderPool {@namespace}/{pool} not found");
        PoolSettings settings;
        try
        {
            settings = PoolSettings.From(builderPool);
        }
        catch (FormatException ex)
        {
            throw new DiscoveryException($"BuilderPool {@namespace}/{pool}: {ex.Message}", ex);
        }

        return new KubernetesDiscovery(transport, @namespace, pool, settings, options ?? new KubernetesDiscoveryOptions());
    }

    /// <summary><paramref name="options"/> with the pool's routing settings and no static backends.</summary>
    public GatewayOptions Configure(GatewayOptions options) => Settings.ApplyTo(options) with { Backends = [] };

    /// <summary><paramref name="services"/> (default: the system clock) with the starter, the forks and the pool's tenants.</summary>
    public GatewayServices Services(GatewayServices? services = null)
    {
        services ??= new GatewayServices();
        return services with
        {
            BuilderStarter = Starter,
            Tenants = Tenants.Directory,
            ForkRequester = Forks,
            // ClientAccess bindings marked untrusted add to the --untrusted-identity patterns.
            UntrustedIdentities = new TenantUntrustedIdentities(Tenants.Directory, services.UntrustedIdentities),
        };
    }

    /// <summary>
    /// The gateway's readiness in pool mode: synced, and a build could be served, by a ready
    /// builder or one the operator can start (or, Dedicated, a volume it can create). A pool whose
    /// builders are all idle must stay reachable, or no build could ever ask for one.
    /// </summary>
    public bool IsReady(IBackendTarget gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        return _synced.Task.IsCompleted
            && Tenants.Directory.IsSynced
            && (Settings.Mode == AssignmentMode.Dedicated || gateway.Placement.Backends.Any(b => b.State is BackendState.Ready or BackendState.Stopped));
    }

    /// <summary>Completes once the gateway has the pool's volumes as backends and its tenants.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_synced.Task, Tenants.WaitForSyncAsync(cancellationToken)).WaitAsync(cancellationToken);

    /// <summary>
    /// Follows the pool and its volumes into <paramref name="gateway"/> until cancelled. Returns
    /// only when cancelled; a loop that fails ends the others and its exception surfaces here.
    /// </summary>
    public async Task RunAsync(IBackendTarget gateway, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        Volatile.Write(ref _gateway, gateway);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pools = new Informer<BuilderPool>(
            new KubernetesListWatcher<BuilderPool>(_transport, Namespace, fieldSelector: $"metadata.name={Pool}"),
            _options.TimeProvider,
            _loggers,
            new InformerOptions { Name = $"BuilderPool {Namespace}/{Pool}" });
        var volumes = new Informer<CacheVolume>(
            new KubernetesListWatcher<CacheVolume>(_transport, Namespace),
            _options.TimeProvider,
            _loggers,
            new InformerOptions { Name = $"CacheVolumes in {Namespace}" });
        pools.AddEventHandler(new ResourceEventHandler<BuilderPool>
        {
            Added = PoolChanged,
            Updated = (_, pool) => PoolChanged(pool),
            Deleted = _ => DiscoveryLog.PoolGone(_logger, Namespace, Pool),
        });
        volumes.AddEventHandler(new ResourceEventHandler<CacheVolume>
        {
            Added = v => VolumeChanged(v),
            Updated = (_, v) => VolumeChanged(v),
            Deleted = v => VolumeChanged(v),
        });

        Task[] loops =
        [
            pools.RunAsync(stop.Token),
            volumes.RunAsync(stop.Token),
            Signals.RunAsync(stop.Token),
            ApplyAsync(gateway, volumes, stop.Token),
            MarkBusyAsync(gateway, stop.Token),
            Tenants.RunAsync(stop.Token),
        ];
        await Task.WhenAny(loops).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private void PoolChanged(BuilderPool pool)
    {
        PoolSettings next;
        try
        {
            next = PoolSettings.From(pool);
        }
        catch (FormatException ex)
        {
            DiscoveryLog.BadPool(_logger, Namespace, Pool, ex.Message);
            return;
        }

        if (Settings.NeedsRestartFor(next) && !_current.NeedsRestartFor(Settings))
        {
            // Once per drift, not on every status update of the pool.
            DiscoveryLog.RestartNeeded(_logger, Namespace, Pool);
        }

        Volatile.Write(ref _current, next);
        Starter.StartTimeout = next.StartTimeout;
        Forks.StartTimeout = next.StartTimeout;
        Forks.Limits = next.Forks;
        Volatile.Read(ref _gateway)?.Isolation.SetUntrustedKeys(next.UntrustedKeys);
        _dirty.Writer.TryWrite(true);
    }

    private void VolumeChanged(CacheVolume volume)
    {
        if (volume.Spec?.Pool == Pool)
        {
            _dirty.Writer.TryWrite(true);
        }
    }

    // One loop applies changes, so a burst of events (a list after a 410, a rollout) becomes one
    // swap, and the informer's dispatch never waits for a ring rebuild.
    private async Task ApplyAsync(IBackendTarget gateway, Informer<CacheVolume> volumes, CancellationToken cancellationToken)
    {
        try
        {
            await volumes.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            _dirty.Writer.TryWrite(true);
            var shown = string.Empty;
            var skippedBefore = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var _ in _dirty.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var skipped = new List<string>();
                var backends = CacheVolumeBackends.From(volumes.Cache.List(), Pool, Volatile.Read(ref _current), skipped);
                gateway.SetBackends(backends);
                Starter.BackendsChanged();
                Forks.Wake();
                _synced.TrySetResult();

                foreach (var name in skipped.Where(skippedBefore.Add))
                {
                    DiscoveryLog.BadEndpoint(_logger, name);
                }

                skippedBefore.IntersectWith(skipped);
                var summary = string.Join(", ", backends.Select(b => $"{b.Name} {b.State}"));
                if (summary != shown)
                {
                    shown = summary;
                    DiscoveryLog.BackendsChanged(_logger, Namespace, Pool, backends.Count(b => b.State == BackendState.Ready), backends.Count, summary);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    // A build that runs for an hour is routed once; its builder must still look used to the operator.
    private async Task MarkBusyAsync(IBackendTarget gateway, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.BusyCheckInterval, _options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var backend in gateway.Placement.Backends)
                {
                    if (gateway.Placement.LoadOn(backend.Id) > 0)
                    {
                        Starter.Used(backend.Id);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
