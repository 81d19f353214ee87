using BuildPool.Api.V1Alpha1;
using BuildPool.LocalApi;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Host.Tests;

/// <summary>The real <c>buildpool gateway --pool</c> process against the local API: who the API says wrote its signals.</summary>
public sealed class GatewayFieldManagerTests : IDisposable
{
    private const string Ns = "default";
    private const string Pool = "ci";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("buildpool-gateway-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task What_the_gateway_writes_is_managed_by_buildpool_gateway()
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await server.StartAsync();
        var kubeconfig = Path.Combine(_dir.FullName, "kubeconfig");
        server.WriteKubeconfig(kubeconfig);
        using var client = server.CreateClient();
        var transport = new KubernetesTransport(client, "test-setup");
        await new ResourceClient<BuilderPool>(transport).CreateAsync(new BuilderPool { Metadata = new V1ObjectMeta { Name = Pool, NamespaceProperty = Ns }, Spec = new BuilderPoolSpec() });
        var leases = new ResourceClient<V1Lease>(transport);
        await leases.CreateAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = GatewaySignals.LeaseName(Pool), NamespaceProperty = Ns }, Spec = new V1LeaseSpec() });
        var volumes = new ResourceClient<CacheVolume>(transport);
        var volume = await volumes.CreateAsync(new CacheVolume { Metadata = new V1ObjectMeta { Name = $"{Pool}-0", NamespaceProperty = Ns }, Spec = new CacheVolumeSpec { Pool = Pool } });
        // Its builder is stopped: a bootstrap call asks the operator to start it, on the signal Lease.
        volume.Status = new CacheVolumeStatus { Phase = CacheVolumePhase.Idle, Endpoint = "tcp://127.0.0.1:9" };
        await volumes.ReplaceStatusAsync(volume);

        var port = LoopbackPort.Free();
        var metricsPort = LoopbackPort.Free();
        await using var gateway = Cli.Start(_dir.FullName, "gateway", "--pool", Pool, "--kubeconfig", kubeconfig, "--listen", $"127.0.0.1:{port}", "--metrics-address", $"127.0.0.1:{metricsPort}");
        // Ready, as a Service would wait for: it has read the pool's volumes (listening comes first,
        // and a call before the sync finds no builder to start; one CI run failed that way).
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        await Eventually.WaitAsync(
            async () =>
            {
                try
                {
                    return (await http.GetAsync("/readyz")).StatusCode;
                }
                catch (HttpRequestException)
                {
                    return System.Net.HttpStatusCode.ServiceUnavailable;
                }
            },
            s => s == System.Net.HttpStatusCode.OK,
            "the gateway's /readyz to answer 200",
            TimeSpan.FromMinutes(1));
        using var call = new CancellationTokenSource();
        var info = FakeBuildxClient.For($"tcp://127.0.0.1:{port}").InfoAsync(cancellationToken: call.Token);
        var lease = await Eventually.WaitAsync(() => leases.GetAsync(Ns, GatewaySignals.LeaseName(Pool)),
            l => GatewaySignals.ParseAll(l?.Metadata.Annotations).Any(s => s.Kind == GatewaySignalKind.Start), "the gateway's start signal", TimeSpan.FromMinutes(1));
        await call.CancelAsync();
        await Task.WhenAny(info);
        Assert.Equal(0, await gateway.InterruptAsync());

        // The test created the Lease as test-setup; every other write on it is the gateway's.
        Assert.Equal(["buildpool-gateway", "test-setup"], lease!.Metadata.ManagedFields.Select(f => f.Manager).Order(StringComparer.Ordinal));
    }
}
