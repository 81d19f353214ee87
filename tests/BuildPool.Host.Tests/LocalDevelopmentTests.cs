using BuildPool.Api.Schema;
using BuildPool.Host.Cluster;
using BuildPool.LocalApi;
using BuildPool.TestDoubles;
using k8s.Autorest;

namespace BuildPool.Host.Tests;

public sealed class LocalDevelopmentTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("buildpool-dev-");

    public void Dispose() => _dir.Delete(recursive: true);

    public static TheoryData<string> InvalidSamples() =>
        new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "InvalidSamples"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(InvalidSamples))]
    public async Task An_invalid_sample_is_rejected_by_the_local_api_naming_the_field(string file)
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await server.StartAsync();
        using var client = server.CreateClient();
        var path = Path.Combine(AppContext.BaseDirectory, "InvalidSamples", file);
        var field = (await File.ReadAllLinesAsync(path))[0].Replace("# field: ", "", StringComparison.Ordinal);
        var dir = Directory.CreateDirectory(Path.Combine(_dir.FullName, Path.GetFileNameWithoutExtension(file)));
        File.Copy(path, Path.Combine(dir.FullName, file));

        var ex = await Assert.ThrowsAsync<HttpOperationException>(() =>
            new ManifestApplier(client, CrdGenerator.Generate()).ApplyDirectoryAsync(dir.FullName, "default", CancellationToken.None));
        // 422 Invalid for schema errors; 400 BadRequest for unknown fields under Strict, as the real API server answers.
        Assert.Contains((int)ex.Response.StatusCode, new[] { 400, 422 });
        Assert.Contains(field, ex.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_sample_is_accepted_by_the_local_api()
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await server.StartAsync();
        using var client = server.CreateClient();
        var applied = await new ManifestApplier(client, CrdGenerator.Generate()).ApplyDirectoryAsync(RepositoryPaths.Samples, "default", CancellationToken.None);
        Assert.Equal(
            ["BuilderPool", "CacheVolume", "RegistryCacheTarget", "SecretBinding"],
            applied.Select(a => a.Split('/')[0]).Distinct().Order(StringComparer.Ordinal));
        // Applying again updates in place.
        Assert.Equal(applied, await new ManifestApplier(client, CrdGenerator.Generate()).ApplyDirectoryAsync(RepositoryPaths.Samples, "default", CancellationToken.None));
    }

    [KubectlFact]
    public async Task Make_run_without_a_cluster_serves_the_samples_and_the_operator_to_kubectl()
    {
        await using var dev = Cli.Start(RepositoryPaths.Root, "dev", "--state", _dir.FullName, "--metrics-address", "127.0.0.1:0");
        var kubeconfig = Path.Combine(_dir.FullName, "kubeconfig");
        await Eventually.WaitAsync(() => Task.FromResult(dev.Output), o => o.Contains("export KUBECONFIG=", StringComparison.Ordinal), "the dev command to print the kubeconfig", TimeSpan.FromMinutes(1));
        Assert.Contains(kubeconfig, dev.Output, StringComparison.Ordinal);

        var kubectl = new Kubectl(kubeconfig);
        var pools = await kubectl.RunAsync("get", "builderpools");
        Assert.True(pools.ExitCode == 0, pools.ToString());
        Assert.Contains("ci", pools.Stdout, StringComparison.Ordinal);
        Assert.Contains("per-project", pools.Stdout, StringComparison.Ordinal);

        // The operator is running: the sample pool's volumes and builder Deployments appear.
        var state = await Eventually.WaitAsync(() => kubectl.RunAsync("get", "cachevolumes,deployments", "-o", "name"),
            r => r.Stdout.Contains("cachevolume.buildpool.dev/ci-3", StringComparison.Ordinal)
                && r.Stdout.Contains("deployment.apps/ci-0-builder", StringComparison.Ordinal)
                && r.Stdout.Contains("deployment.apps/ci-gateway", StringComparison.Ordinal),
            "the operator to create the sample pool's volumes and deployments", TimeSpan.FromMinutes(1));
        Assert.Contains("cachevolume.buildpool.dev/ci-release", state.Stdout, StringComparison.Ordinal);

        // SHARING shows what is in effect: the pool's (Shared) for the volumes it created, the volume's own (Locked) for ci-release.
        var table = await Eventually.WaitAsync(() => kubectl.RunAsync("get", "cachevolumes", "ci-0", "ci-release"),
            r => SharingOf(r.Stdout, "ci-0") == "Shared" && SharingOf(r.Stdout, "ci-release") == "Locked",
            "the SHARING column of a pool-created volume and of one that sets its own", TimeSpan.FromMinutes(1));
        Assert.Equal(0, table.ExitCode);

        // The sample cache target names a cluster Service no one serves here: its status says so,
        // and the name never went to the machine's resolver ("unknown host").
        var target = await Eventually.WaitAsync(() => kubectl.RunAsync("get", "registrycachetarget", "shared-cache", "-o", "jsonpath={.status.conditions[?(@.type==\"Stalled\")].message}"),
            r => r.Stdout.Contains("no ready endpoint behind this Service", StringComparison.Ordinal),
            "the cache target to say its registry Service has no endpoint", TimeSpan.FromMinutes(1));
        Assert.StartsWith("registry.buildpool-system.svc:5000: ", target.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, await dev.InterruptAsync());
        Assert.DoesNotContain("unknown host", dev.Output + dev.Error, StringComparison.Ordinal);
    }

    // The SHARING cell of a volume's row in kubectl's table; null until the row and column exist.
    private static string? SharingOf(string table, string volume)
    {
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            return null;
        }

        var headers = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var column = Array.IndexOf(headers, "SHARING");
        var row = lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(c => c[0] == volume);
        return column >= 0 && row is not null && row.Length > column ? row[column] : null;
    }
}
