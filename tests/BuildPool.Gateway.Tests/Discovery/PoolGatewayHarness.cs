using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Support;
using BuildPool.LocalApi;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Discovery;

/// <summary>
/// The gateway in pool mode (<c>--pool</c>) against the local Kubernetes API, without the operator:
/// the test plays the operator by writing each CacheVolume's status, whose endpoint points at a
/// fake builder named like the volume.
/// </summary>
internal sealed class PoolGatewayHarness : IAsyncDisposable
{
    public const string Ns = "ci";
    public const string PoolName = "pool";

    private readonly CancellationTokenSource _stop = new();
    private Task _discovering = Task.CompletedTask;

    private PoolGatewayHarness(LocalApiServer server, FakeBuilderFleet fleet)
    {
        Server = server;
        Fleet = fleet;
        Kubernetes = server.CreateClient();
        Transport = new KubernetesTransport(Kubernetes);
        Pools = new ResourceClient<BuilderPool>(Transport);
        Volumes = new ResourceClient<CacheVolume>(Transport);
        Leases = new ResourceClient<V1Lease>(Transport);
    }

    public LocalApiServer Server { get; }

    public FakeBuilderFleet Fleet { get; }

    public Kubernetes Kubernetes { get; }

    public KubernetesTransport Transport { get; }

    public ResourceClient<BuilderPool> Pools { get; }

    public ResourceClient<CacheVolume> Volumes { get; }

    /// <summary>Where the gateway writes its signals (the pool's signal Lease, which the operator creates).</summary>
    public ResourceClient<V1Lease> Leases { get; }

    public GatewayServer Gateway { get; private set; } = null!;

    public KubernetesDiscovery Discovery { get; private set; } = null!;

    public FakeBuildxClient Client { get; private set; } = null!;

    /// <summary>
    /// A pool with one Ready volume per name in <paramref name="volumes"/> (each with its fake
    /// builder), then the gateway discovering it.
    /// </summary>
    public static async Task<PoolGatewayHarness> StartAsync(
        IReadOnlyList<string> volumes,
        Action<BuilderPoolSpec>? pool = null,
        Func<string, CacheVolumeSpec, CacheVolumeSpec>? volume = null,
        IReadOnlyDictionary<string, CacheVolumePhase>? phases = null,
        IReadOnlyList<string>? spareBuilders = null,
        Func<GatewayOptions, GatewayOptions>? gateway = null,
        TimeProvider? time = null)
    {
        var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds, BookmarkInterval = TimeSpan.FromSeconds(1) });
        await server.StartAsync();
        FakeBuilderFleet? fleet = null;
        try
        {
            fleet = await FakeBuilderFleet.StartAsync([.. volumes, .. spareBuilders ?? []]);
            var harness = new PoolGatewayHarness(server, fleet);
            try
            {
                await new ResourceClient<V1Namespace>(harness.Transport).CreateAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Ns } });
                var spec = new BuilderPoolSpec();
                pool?.Invoke(spec);
                await harness.Pools.CreateAsync(new BuilderPool { Metadata = new V1ObjectMeta { Name = PoolName, NamespaceProperty = Ns }, Spec = spec });
                await harness.Leases.CreateAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = GatewaySignals.LeaseName(PoolName), NamespaceProperty = Ns }, Spec = new V1LeaseSpec() });
                foreach (var name in volumes)
                {
                    var phase = phases?.GetValueOrDefault(name, CacheVolumePhase.Ready) ?? CacheVolumePhase.Ready;
                    await harness.CreateVolumeAsync(name, phase, s => volume?.Invoke(name, s) ?? s);
                }

                await harness.StartGatewayAsync(volumes.Count, gateway, time ?? TimeProvider.System);
                return harness;
            }
            catch
            {
                await harness.DisposeAsync();
                fleet = null;
                throw;
            }
        }
        catch
        {
            if (fleet is not null)
            {
                await fleet.DisposeAsync();
                await server.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Creates a CacheVolume of the pool whose status says <paramref name="phase"/> and points at the fake builder named like it.</summary>
    public async Task CreateVolumeAsync(string name, CacheVolumePhase phase, Func<CacheVolumeSpec, CacheVolumeSpec>? spec = null)
    {
        await Volumes.CreateAsync(new CacheVolume
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
            Spec = (spec ?? (s => s))(new CacheVolumeSpec { Pool = PoolName }),
        });
        await WriteStatusAsync(name, phase);
    }

    /// <summary>Plays the operator: sets the volume's phase, then waits until the gateway routes by it.</summary>
    public async Task SetPhaseAsync(string name, CacheVolumePhase phase)
    {
        await WriteStatusAsync(name, phase);
        var expected = CacheVolumeBackends.StateOf(new CacheVolume { Metadata = new V1ObjectMeta { Name = name }, Status = new CacheVolumeStatus { Phase = phase } });
        await Eventually.TrueAsync(() => StateOf(name) == expected, $"the gateway sees {name} as {expected}");
    }

    private async Task WriteStatusAsync(string name, CacheVolumePhase phase)
    {
        while (true)
        {
            var volume = await Volumes.GetAsync(Ns, name) ?? throw new InvalidOperationException($"No CacheVolume {name}.");
            volume.Status ??= new CacheVolumeStatus();
            volume.Status.Phase = phase;
            volume.Status.Endpoint = Fleet[name].Address;
            try
            {
                await Volumes.ReplaceStatusAsync(volume);
                break;
            }
            catch (ConflictException)
            {
                // The gateway annotated it meanwhile; read again.
            }
        }
    }

    public BackendState? StateOf(string name) => Gateway.Placement.Backends.FirstOrDefault(b => b.Id == name)?.State;

    /// <summary>The gateway's signal of <paramref name="kind"/> about <paramref name="subject"/> (a volume; for a demand, the key); null when there is none.</summary>
    public async Task<GatewaySignal?> SignalAsync(GatewaySignalKind kind, string subject)
    {
        var lease = await Leases.GetAsync(Ns, GatewaySignals.LeaseName(PoolName));
        return GatewaySignals.ParseAll(lease?.Metadata.Annotations)
            .FirstOrDefault(s => s.Kind == kind && (kind == GatewaySignalKind.Demand ? s.Detail : s.Subject) == subject);
    }

    /// <summary>A project (context directory) whose key goes to <paramref name="volume"/> now.</summary>
    public string ProjectHomedOn(string volume) =>
        Enumerable.Range(0, 10_000).Select(i => $"project-{i}").First(p => Gateway.Placement.Place(p).Backend?.Id == volume);

    public async ValueTask DisposeAsync()
    {
        Fleet.ReleaseAll();
        await _stop.CancelAsync();
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        await _discovering;
        _stop.Dispose();
        Kubernetes.Dispose();
        await Fleet.DisposeAsync();
        await Server.DisposeAsync();
    }

    private async Task StartGatewayAsync(int volumes, Func<GatewayOptions, GatewayOptions>? gateway, TimeProvider time)
    {
        Discovery = await KubernetesDiscovery.ConnectAsync(
            Transport,
            Ns,
            PoolName,
            new KubernetesDiscoveryOptions { BusyCheckInterval = TimeSpan.FromMilliseconds(200), TimeProvider = time });
        var options = Discovery.Configure(new GatewayOptions
        {
            Listen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        Gateway = await GatewayServer.StartAsync(gateway?.Invoke(options) ?? options, Discovery.Services(new GatewayServices { TimeProvider = time }));
        _discovering = Discovery.RunAsync(Gateway, _stop.Token);
        await Discovery.WaitForSyncAsync(CancellationToken.None).Within(10);
        await Eventually.TrueAsync(() => Gateway.Placement.Backends.Count == volumes, $"the gateway has {volumes} backends");
        Client = FakeBuildxClient.For(Gateway.Address);
    }
}
