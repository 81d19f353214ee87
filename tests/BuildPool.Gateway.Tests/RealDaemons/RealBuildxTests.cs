using System.Net;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.TestDoubles;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.RealDaemons;

/// <summary>
/// The real buildx client, remote driver, through the in-process gateway to real buildkitd
/// daemons (issue 4 items 1 and 10). Every build's routing key is its context directory's
/// basename (the session shared key): no domain, certificate, image name or cache ref is given.
/// Runs only when <see cref="RealBuildKitFactAttribute.Variable"/> and
/// <see cref="RealBuildxFactAttribute.Variable"/> are both set.
/// </summary>
public sealed class RealBuildxTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("buildpool-real-buildx-");
    private readonly BuildxCli _buildx = new(RealBuildxFactAttribute.BuildxPath ?? "buildx") { Timeout = TimeSpan.FromSeconds(60) };

    [RealBuildxFact]
    public async Task A_rebuild_of_the_same_context_is_fully_cached_on_the_daemon_its_directory_is_placed_on()
    {
        await using var gateway = await StartGatewayAsync();
        var builder = await _buildx.CreateRemoteAsync("gateway", gateway.Address);
        var project = "warm-" + Unique();
        var context = Context(
            project,
            ("Dockerfile", "FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\n"),
            ("a.txt", Unique()),
            ("b.txt", Unique()));

        var cold = await BuildAsync(builder, context);
        var warm = await BuildAsync(builder, context);

        Assert.Equal(2, cold.DockerfileSteps.Count);
        Assert.All(cold.DockerfileSteps, step => Assert.False(step.Cached, $"fresh content, yet cached: {step.Name}\n{cold}"));
        Assert.Equal(2, warm.DockerfileSteps.Count);
        Assert.All(warm.DockerfileSteps, step => Assert.True(step.Cached, $"warm build did not hit the cache: {step.Name}\n{warm}"));
        await AssertBuildsRanWhereKeyIsPlacedAsync(gateway, project, builds: 2);
    }

    [RealBuildxFact(needsBusybox: true)]
    public async Task Cache_mount_contents_survive_a_source_change_between_builds_of_a_project()
    {
        await using var gateway = await StartGatewayAsync();
        var builder = await _buildx.CreateRemoteAsync("gateway", gateway.Address);
        var project = "cachemount-" + Unique();
        // A cache id of its own, so the mount starts empty whatever ran on these daemons before.
        var cacheId = "buildpool-test-" + Unique();
        var context = Context(
            project,
            ("Dockerfile", $"""
                FROM scratch AS base
                COPY busybox /bin/busybox
                RUN ["/bin/busybox","--install","-s","/bin"]
                FROM base
                COPY src.txt /src.txt
                RUN --mount=type=cache,target=/cache,id={cacheId} sh -c 'cat /src.txt >> /cache/lines && echo "cache lines: $(wc -l < /cache/lines)"'

                """),
            ("src.txt", "first " + Unique() + "\n"));
        File.Copy(RealBuildxFactAttribute.BusyboxPath, Path.Combine(context, "busybox"));

        var first = await BuildAsync(builder, context);
        await File.WriteAllTextAsync(Path.Combine(context, "src.txt"), "second " + Unique() + "\n");
        var second = await BuildAsync(builder, context);

        Assert.True(CacheLines(first).SequenceEqual(["cache lines: 1"]), $"the first build's RUN should find an empty cache mount:\n{first}");
        Assert.True(CacheLines(second).SequenceEqual(["cache lines: 2"]), $"the second build's RUN should find the first build's line:\n{second}");
        await AssertBuildsRanWhereKeyIsPlacedAsync(gateway, project, builds: 2);
    }

    [RealBuildxFact]
    public async Task Each_project_keeps_to_one_daemon_and_the_projects_spread_over_the_daemons()
    {
        await using var gateway = await StartGatewayAsync();
        var builder = await _buildx.CreateRemoteAsync("gateway", gateway.Address);
        // Fixed project names (in a directory of this run's own): where they land depends only on
        // the hash, so the spread checked below is the same on every run.
        var projects = Enumerable.Range(1, 12).Select(i => $"spread-{i:D2}").ToList();
        var contexts = projects.ToDictionary(
            p => p,
            p => Context(p, ("Dockerfile", "FROM scratch\nCOPY p.txt /p.txt\n"), ("p.txt", p + " " + Unique())));

        for (var round = 0; round < 2; round++)
        {
            foreach (var project in projects)
            {
                await File.AppendAllTextAsync(Path.Combine(contexts[project], "p.txt"), $"round {round}\n");
                await BuildAsync(builder, contexts[project]);
            }
        }

        var daemons = new HashSet<string>(StringComparer.Ordinal);
        foreach (var project in projects)
        {
            daemons.Add(await AssertBuildsRanWhereKeyIsPlacedAsync(gateway, project, builds: 2));
        }

        Assert.True(
            daemons.Count >= Math.Min(2, RealBuildKitFactAttribute.Addresses.Count),
            $"12 projects all went to {string.Join(", ", daemons)} of {RealBuildKitFactAttribute.Addresses.Count} daemons");
    }

    public void Dispose()
    {
        _buildx.Dispose();
        _work.Delete(recursive: true);
    }

    private static string Unique() => Guid.NewGuid().ToString("N")[..12];

    private static List<string> CacheLines(BuildxRun run) =>
        [.. run.DockerfileSteps.Where(s => s.Name.Contains("--mount=type=cache", StringComparison.Ordinal)).SelectMany(s => s.Log)
            .Where(l => l.StartsWith("cache lines:", StringComparison.Ordinal))];

    private static Task<GatewayServer> StartGatewayAsync() =>
        GatewayServer.StartAsync(new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Backends = [.. RealBuildKitFactAttribute.Addresses.Select((address, i) => StaticBackendParser.Parse($"real-{i}={address}"))],
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });

    // The summary is recorded when the gateway sees the Solve end, which can be just after buildx
    // exits; hence the wait. Returns the daemon the project's builds ran on.
    private static async Task<string> AssertBuildsRanWhereKeyIsPlacedAsync(GatewayServer gateway, string project, int builds)
    {
        List<BuildSummary> summaries = [];
        await Eventually.TrueAsync(
            () => (summaries = [.. gateway.Builds.RecentBuilds.Where(b => b.Key == project)]).Count >= builds,
            $"{builds} build summaries keyed {project}");
        var placed = gateway.Placement.Place(project).Backend?.Id;
        Assert.NotNull(placed);
        Assert.Equal(builds, summaries.Count);
        Assert.All(summaries, s => Assert.Equal(("SessionDirectory", placed, 0), (s.KeySource, s.Backend, s.GrpcStatus)));
        return placed;
    }

    private async Task<BuildxRun> BuildAsync(string builder, string context)
    {
        var run = await _buildx.BuildAsync(builder, context);
        Assert.True(run.Succeeded, $"buildx build {context}: {run}");
        return run;
    }

    private string Context(string name, params (string File, string Text)[] files)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_work.FullName, name));
        foreach (var (file, text) in files)
        {
            File.WriteAllText(Path.Combine(directory.FullName, file), text);
        }

        return directory.FullName;
    }
}
