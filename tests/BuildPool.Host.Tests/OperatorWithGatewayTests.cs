using System.Net;
using System.Net.Sockets;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Http2;
using BuildPool.LocalApi;
using BuildPool.Operator;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Host.Tests;

/// <summary>
/// The real operator and the real gateway (pool mode) together against the local Kubernetes API:
/// the only parts played are the kubelet (<see cref="FakeKubelet"/>) and the daemons (one fake
/// builder per CacheVolume). The two talk only through the API, as in a cluster: the gateway reads
/// the volumes the operator writes, and asks it to start a builder with an annotation.
/// </summary>
public sealed class OperatorWithGatewayTests : IAsyncLifetime
{
    private const string Ns = "default";
    private const string PoolName = "ci";

    private readonly CancellationTokenSource _stop = new();
    private LocalApiServer _server = null!;
    private Kubernetes _kubernetes = null!;
    private FakeBuilderFleet _fleet = null!;
    private FakeKubelet _kubelet = null!;
    private Task _operator = Task.CompletedTask;
    private Task _discovering = Task.CompletedTask;
    private GatewayServer? _gateway;

    private ResourceClient<BuilderPool> Pools => new(_kubernetes);

    private ResourceClient<CacheVolume> Volumes => new(_kubernetes);

    private ResourceClient<V1Deployment> Deployments => new(_kubernetes);

    public async Task InitializeAsync()
    {
        _server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds, BookmarkInterval = TimeSpan.FromSeconds(1) });
        await _server.StartAsync();
        _kubernetes = _server.CreateClient();
        _fleet = await FakeBuilderFleet.StartAsync([$"{PoolName}-0", $"{PoolName}-1"]);
        var (manager, _) = BuildPoolOperator.Create(
            _kubernetes,
            new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1) },
            TimeProvider.System,
            NullLoggerFactory.Instance,
            connector: new FleetConnector(_fleet));
        _operator = manager.RunAsync(_stop.Token);
        _kubelet = FakeKubelet.Start(Deployments, Ns);
    }

    [Fact]
    public async Task A_build_for_an_idle_builder_wakes_it_through_the_operator_and_its_next_build_lands_there_again()
    {
        await CreateReadyPoolAsync(warmBuilders: 1);
        var gateway = await StartGatewayAsync();
        // What the operator wrote, as the gateway reads it: one warm builder, one stopped.
        await Eventually.TrueAsync(() => StateOf(gateway, "ci-0") == BackendState.Ready && StateOf(gateway, "ci-1") == BackendState.Stopped,
            "the gateway to see ci-0 Ready and ci-1 Stopped", TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await Deployments.GetAsync(Ns, "ci-1-builder"))!.Spec.Replicas);
        var project = Enumerable.Range(0, 10_000).Select(i => $"project-{i}").First(p => gateway.Placement.Place(p).Backend?.Id == "ci-1");
        var client = FakeBuildxClient.For(gateway.Address);

        var first = await client.BuildAsync(new FakeBuildxOptions { ContextName = project, Timeout = TimeSpan.FromSeconds(60) });

        // The build waited for its own (cold-started) builder instead of spilling to the warm one.
        Assert.True(first.Succeeded, first.ToString());
        Assert.Equal("ci-1", first.Builder);
        Assert.Equal(1, (await Deployments.GetAsync(Ns, "ci-1-builder"))!.Spec.Replicas);
        Assert.Equal(CacheVolumePhase.Ready, (await Volumes.GetAsync(Ns, "ci-1"))!.Status.Phase);

        var again = await client.BuildAsync(new FakeBuildxOptions { ContextName = project });
        Assert.True(again.Succeeded, again.ToString());
        Assert.Equal("ci-1", again.Builder);
        Assert.Equal(["ci-1"], _fleet.BuildersOf(first.Ref));
        Assert.Equal(["ci-1"], _fleet.BuildersOf(again.Ref));
        Assert.Empty(_fleet["ci-0"].Builds.Solves);

        // The gateway's use of the volume reaches its status, which the idle timeout counts from.
        await WaitAsync(() => Volumes.GetAsync(Ns, "ci-1"), v => v?.Status.LastUsed is not null, "ci-1's lastUsed in status");
    }

    [Fact]
    public async Task A_volume_the_operator_drains_gets_no_new_builds_from_the_gateway_until_its_running_build_ends()
    {
        await CreateReadyPoolAsync(warmBuilders: 2);
        var gateway = await StartGatewayAsync();
        await Eventually.TrueAsync(() => StateOf(gateway, "ci-0") == BackendState.Ready && StateOf(gateway, "ci-1") == BackendState.Ready,
            "the gateway to see both builders Ready", TimeSpan.FromSeconds(30));
        var project = Enumerable.Range(0, 10_000).Select(i => $"project-{i}").First(p => gateway.Placement.Place(p).Backend?.Id == "ci-1");
        var old = (await Volumes.GetAsync(Ns, "ci-1"))!.Metadata.Uid;
        // A build the daemon reports as running (the operator asks it before stopping the builder).
        _fleet["ci-1"].Daemon.ActiveBuilds["long-build"] = DateTimeOffset.UtcNow;

        await Volumes.DeleteAsync(Ns, "ci-1");
        await WaitAsync(() => Volumes.GetAsync(Ns, "ci-1"), v => v?.Status.Phase == CacheVolumePhase.Draining, "the operator to drain ci-1");
        await Eventually.TrueAsync(() => StateOf(gateway, "ci-1") == BackendState.Draining, "the gateway to see ci-1 draining", TimeSpan.FromSeconds(30));

        var during = await FakeBuildxClient.For(gateway.Address).BuildAsync(new FakeBuildxOptions { ContextName = project });

        Assert.True(during.Succeeded, during.ToString());
        Assert.Equal("ci-0", during.Builder);
        Assert.Empty(_fleet["ci-1"].Builds.Solves);
        // Still draining: the running build is not cut short.
        Assert.Equal(old, (await Volumes.GetAsync(Ns, "ci-1"))!.Metadata.Uid);

        _fleet["ci-1"].Daemon.ActiveBuilds.Clear();
        await WaitAsync(() => Volumes.GetAsync(Ns, "ci-1"), v => v?.Metadata.Uid != old, "the drained volume to be deleted");
    }

    private async Task CreateReadyPoolAsync(int warmBuilders)
    {
        await Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = PoolName, NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Mode = Api.V1Alpha1.AssignmentMode.Hashed, Volumes = 2 },
                Scaling = new ScalingSpec { WarmBuilders = warmBuilders },
            },
        });
        await WaitAsync(() => Pools.GetAsync(Ns, PoolName), p => p?.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True") == true, "the pool to be Ready");
    }

    private static BackendState? StateOf(GatewayServer gateway, string volume) =>
        gateway.Placement.Backends.FirstOrDefault(b => b.Id == volume)?.State;

    private async Task<GatewayServer> StartGatewayAsync()
    {
        var transport = new KubernetesTransport(_kubernetes);
        var discovery = await KubernetesDiscovery.ConnectAsync(transport, Ns, PoolName, new KubernetesDiscoveryOptions { BusyCheckInterval = TimeSpan.FromMilliseconds(200) });
        var options = discovery.Configure(new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            // The operator advertises each builder at its Service name (ci-0-builder.default.svc);
            // here that name is dialled at the fake builder of the same volume.
            Upstream = new Http2ClientPoolOptions { ConnectCallback = DialBuilderServiceAsync },
        });
        _gateway = await GatewayServer.StartAsync(options, discovery.Services());
        _discovering = discovery.RunAsync(_gateway, _stop.Token);
        await discovery.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        return _gateway;
    }

    private async Task<Stream> DialBuilderServiceAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var service = endpoint.Host.Split('.')[0];
        Assert.EndsWith("-builder", service, StringComparison.Ordinal);
        var address = new Uri(_fleet[service[..^"-builder".Length]].Address);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(address.Host, address.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what) =>
        await Eventually.WaitAsync(async () =>
        {
            if (_operator.IsFaulted)
            {
                await _operator;
            }

            return await probe();
        }, done, what, TimeSpan.FromSeconds(60));

    public async Task DisposeAsync()
    {
        _fleet.ReleaseAll();
        await _stop.CancelAsync();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _kubelet.DisposeAsync();
        await IgnoreCancellationAsync(_discovering);
        await IgnoreCancellationAsync(_operator);
        _stop.Dispose();
        _kubernetes.Dispose();
        await _fleet.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static async Task IgnoreCancellationAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The operator's Control API calls for a volume go to the fake builder named like it.</summary>
    private sealed class FleetConnector(FakeBuilderFleet fleet) : IBuilderConnector
    {
        public BuildKitClient Connect(CacheVolume volume) =>
            new(fleet[volume.Metadata.Name].Address, new BuildKitClientOptions { MaxRetryAttempts = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(1), CallTimeout = TimeSpan.FromSeconds(5) });
    }
}
