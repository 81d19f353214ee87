using System.Net;
using System.Net.Sockets;
using BuildPool.LocalApi;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Host.Tests;

public sealed class OperatorProcessTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("buildpool-operator-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task The_operator_process_takes_the_lease_reconciles_and_serves_health_and_metrics()
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await server.StartAsync();
        var kubeconfig = Path.Combine(_dir.FullName, "kubeconfig");
        server.WriteKubeconfig(kubeconfig);
        var port = FreePort();

        await using var op = Cli.Start(_dir.FullName, "operator", "--kubeconfig", kubeconfig, "--leader-elect", "--lease-namespace", "default",
            "--metrics-address", $"127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Eventually.WaitAsync(async () => (await http.GetAsync("/readyz")).StatusCode, s => s == HttpStatusCode.OK, "/readyz to answer 200", TimeSpan.FromMinutes(1));
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));

        using var client = server.CreateClient();
        var lease = await Eventually.WaitAsync(() => new ResourceClient<V1Lease>(client).GetAsync("default", "buildpool-operator"),
            l => l?.Spec?.HolderIdentity is not null, "the operator to take the lease");
        Assert.False(string.IsNullOrEmpty(lease!.Spec.HolderIdentity));

        await new ResourceClient<Api.V1Alpha1.BuilderPool>(client).CreateAsync(new Api.V1Alpha1.BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default" },
        });
        await Eventually.WaitAsync(() => new ResourceClient<Api.V1Alpha1.CacheVolume>(client).ListAsync("default"), v => v.Count == 4, "the pool's four volumes");

        var metrics = await Eventually.WaitAsync(() => http.GetStringAsync("/metrics"),
            m => m.Contains("controller_runtime_reconcile_total", StringComparison.Ordinal), "reconcile metrics");
        Assert.Contains("workqueue_depth", metrics, StringComparison.Ordinal);
        Assert.Contains("leader_election_master_status", metrics, StringComparison.Ordinal);
        // The phase gauge has a series only once the volume reconciler has written a phase,
        // which can come after the pool counted its volumes: wait for both.
        await Eventually.WaitAsync(() => http.GetStringAsync("/metrics"),
            m => System.Text.RegularExpressions.Regex.IsMatch(m, "buildpool_pool_volumes\\{[^}]*pool=\"ci\"\\} 4")
                && m.Contains("buildpool_volume_phase{", StringComparison.Ordinal),
            "the pool's volume gauge and its volumes' phases");

        Assert.Equal(0, await op.InterruptAsync());
    }
}
