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

    [Fact]
    public async Task The_operator_refuses_a_cluster_older_than_the_supported_minimum_in_one_line_and_writes_nothing()
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds, KubernetesVersion = new Version(1, 20, 2) });
        await server.StartAsync();
        var kubeconfig = Path.Combine(_dir.FullName, "kubeconfig");
        server.WriteKubeconfig(kubeconfig);
        server.Stats.Reset();

        var (exitCode, _, error) = await Cli.RunAsync(_dir.FullName, "operator", "--kubeconfig", kubeconfig, "--leader-elect", "--lease-namespace", "default",
            "--metrics-address", $"127.0.0.1:{FreePort()}");

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("v1.20.2", line, StringComparison.Ordinal);
        Assert.Contains($"needs Kubernetes {Api.Schema.SupportedKubernetes.MinimumText} or later", line, StringComparison.Ordinal);
        Assert.Contains("policy/v1 poddisruptionbudgets", line, StringComparison.Ordinal);
        // Never half-started: no Lease taken, no watch opened, nothing written.
        Assert.Equal(0, server.Stats.TotalWrites);
        Assert.Equal(0, server.OpenWatches);
        Assert.Equal(0, server.Stats.Snapshot().Where(kv => kv.Key.Verb is "list" or "watch").Sum(kv => kv.Value));
    }

    [Fact]
    public async Task When_the_leading_operator_gets_SIGTERM_the_standby_leads_within_three_seconds()
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await server.StartAsync();
        var kubeconfig = Path.Combine(_dir.FullName, "kubeconfig");
        server.WriteKubeconfig(kubeconfig);
        using var client = server.CreateClient();
        var leases = new ResourceClient<V1Lease>(client);
        string[] Args() => ["operator", "--kubeconfig", kubeconfig, "--leader-elect", "--lease-namespace", "default", "--metrics-address", $"127.0.0.1:{FreePort()}"];

        await using var first = Cli.Start(_dir.FullName, Args());
        var leader = (await Eventually.WaitAsync(() => leases.GetAsync("default", "buildpool-operator"),
            l => !string.IsNullOrEmpty(l?.Spec?.HolderIdentity), "the first operator to lead", TimeSpan.FromMinutes(1)))!.Spec.HolderIdentity;
        await using var standby = Cli.Start(_dir.FullName, Args());
        await Eventually.TrueAsync(() => standby.Output.Contains($"is held by {leader}", StringComparison.Ordinal), "the standby to see the leader", TimeSpan.FromMinutes(1));

        var terminatedAt = DateTimeOffset.UtcNow;
        first.Terminate();
        var next = await Eventually.WaitAsync(() => leases.GetAsync("default", "buildpool-operator"),
            l => l?.Spec?.HolderIdentity is { Length: > 0 } h && h != leader, "the standby to lead", TimeSpan.FromSeconds(30));
        var takeover = DateTimeOffset.UtcNow - terminatedAt;

        // Without the release the standby waits out the 15 s lease.
        Assert.True(takeover < TimeSpan.FromSeconds(3), $"the standby led {takeover.TotalSeconds:F1} s after the leader's SIGTERM");
        Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("released buildpool-operator on shutdown", first.Output, StringComparison.Ordinal);
        Assert.NotEqual(leader, next!.Spec.HolderIdentity);
        Assert.Equal(["buildpool-operator"], next.Metadata.ManagedFields.Select(f => f.Manager).Distinct());
        Assert.Equal(0, await standby.InterruptAsync());
    }
}
