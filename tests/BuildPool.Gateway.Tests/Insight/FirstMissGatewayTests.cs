using BuildPool.BuildKit.Protocol;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Insight;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tests.Server;
using BuildPool.TestDoubles;
using Grpc.Net.Client;

namespace BuildPool.Gateway.Tests.Insight;

/// <summary>
/// The "done when" cases through a real gateway in front of fake builders whose Status
/// streams are shaped like buildkitd's (a per-builder cache, stable digests only for context-free
/// steps): each rebuild's first miss and its cause, in the build summary and the log line.
/// </summary>
public sealed class FirstMissGatewayTests
{
    private static FakeBuildxOptions Build(string project, string context = "context-1", string v = "1", string? noCache = null) => new()
    {
        ContextName = project,
        Bootstrap = false,
        Dockerfile = FakeDockerfile.FourSteps(),
        ContextContentId = context,
        BuildArgs = new Dictionary<string, string> { ["V"] = v },
        NoCache = noCache,
    };

    private static async Task<BuildSummary> BuildAsync(GatewayHarness harness, FakeBuildxOptions options)
    {
        var result = await harness.Client.BuildAsync(options);
        Assert.True(result.Succeeded, result.ToString());
        await Eventually.TrueAsync(() => harness.Gateway.Builds.RecentBuilds.Any(b => b.Ref == result.Ref), "the build is reported");
        return harness.Gateway.Builds.RecentBuilds.Single(b => b.Ref == result.Ref);
    }

    [Fact]
    public async Task A_rebuild_after_changing_a_source_file_names_the_copy_of_the_context()
    {
        using var logs = new Support.CapturedLogs();
        await using var harness = await GatewayHarness.StartAsync(builders: 2, logging: logs);
        var project = harness.ProjectOn("builder-1");

        var first = await BuildAsync(harness, Build(project));
        var same = await BuildAsync(harness, Build(project));
        var edited = await BuildAsync(harness, Build(project, context: "context-2"));

        Assert.Equal(MissCause.ColdBuilder, first.FirstMiss!.Cause);
        Assert.Null(same.FirstMiss);
        Assert.Equal(4, same.CachedSteps);
        Assert.Equal("[3/4] COPY data.txt /d", edited.FirstMiss!.Step);
        Assert.Equal(MissCause.ContextChanged, edited.FirstMiss.Cause);
        Assert.Contains("or its cache was evicted", edited.FirstMiss.Detail, StringComparison.Ordinal);
        Assert.Equal(2, edited.CachedSteps);
        var line = Assert.Single(logs.Lines, l => l.Contains($"Build {edited.Ref} ", StringComparison.Ordinal));
        Assert.Contains("first miss: [3/4] COPY data.txt /d (context-changed: it reads the build context", line, StringComparison.Ordinal);
        Assert.Contains("executed steps ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rebuild_with_another_build_argument_is_a_definition_change_naming_the_step()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 2);
        var project = harness.ProjectOn("builder-0");

        await BuildAsync(harness, Build(project));
        var rebuilt = await BuildAsync(harness, Build(project, v: "2"));

        Assert.Equal(
            new FirstMiss("[2/4] RUN echo base-2 > /b", MissCause.DefinitionChanged, "[2/4] changed: RUN echo base-1 > /b → RUN echo base-2 > /b"),
            rebuilt.FirstMiss);
        Assert.Equal(1, rebuilt.CachedSteps);
    }

    [Fact]
    public async Task A_rebuild_on_a_new_volume_is_a_cold_builder_naming_where_it_built_before()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 3);
        var all = harness.Backends;
        var ring = new Placement(new PlacementOptions());
        ring.Update(all.Select(b => new Backend(b.Name)));
        harness.Gateway.SetBackends(all.Where(b => b.Name != "builder-2"));
        // A project the two-builder ring sends elsewhere and the three-builder ring to builder-2.
        var project = Enumerable.Range(0, 1000).Select(i => $"project-{i}").First(p => ring.Place(p).Backend!.Id == "builder-2");
        var before = harness.HomeOf(project);

        await BuildAsync(harness, Build(project));
        harness.Gateway.SetBackends(all);
        var rebuilt = await BuildAsync(harness, Build(project));

        Assert.Equal("builder-2", rebuilt.Backend);
        Assert.Equal(MissCause.ColdBuilder, rebuilt.FirstMiss!.Cause);
        Assert.Equal("[1/4] FROM reg/img:1@sha256:3e39b1c7c0a8", rebuilt.FirstMiss.Step);
        Assert.Equal($"key {project} never built on builder-2 (a new volume); its last build ran on {before}", rebuilt.FirstMiss.Detail);
    }

    [Fact]
    public async Task A_rebuild_after_a_prune_is_evicted_and_names_the_prune()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 1);
        var project = "app";
        var first = await BuildAsync(harness, Build(project));
        using (var channel = GrpcChannel.ForAddress($"http://{harness.Gateway.EndPoint}"))
        {
            var prune = new Control.ControlClient(channel).Prune(new PruneRequest { All = true });
            while (await prune.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }

        var rebuilt = await BuildAsync(harness, Build(project));

        Assert.Equal(1, harness.Fleet[0].Builds.Cache.Prunes);
        Assert.Equal("[1/4] FROM reg/img:1@sha256:3e39b1c7c0a8", rebuilt.FirstMiss!.Step);
        Assert.Equal(MissCause.Evicted, rebuilt.FirstMiss.Cause);
        Assert.StartsWith($"same definition as in build {first.Ref} on builder-0", rebuilt.FirstMiss.Detail, StringComparison.Ordinal);
        Assert.Contains("pruned at ", rebuilt.FirstMiss.Detail, StringComparison.Ordinal);
        Assert.EndsWith("by a Prune call through the gateway", rebuilt.FirstMiss.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rebuild_after_the_operator_pruned_the_volume_names_its_last_gc()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 1);
        await BuildAsync(harness, Build("app"));
        // The operator prunes the builder directly (not through the gateway) and writes status.lastGC.
        harness.Fleet[0].Builds.Cache.Clear();
        var gc = DateTimeOffset.UtcNow;
        harness.Gateway.SetBackends(harness.Backends.Select(b => b with { LastGC = gc }));

        var rebuilt = await BuildAsync(harness, Build("app"));

        Assert.Equal(MissCause.Evicted, rebuilt.FirstMiss!.Cause);
        Assert.EndsWith("by the operator's garbage collection or prune (CacheVolume status.lastGC)", rebuilt.FirstMiss.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_build_after_its_builder_was_drained_moved_and_says_why()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 2);
        var project = harness.ProjectOn("builder-0");
        await BuildAsync(harness, Build(project));

        harness.Gateway.SetBackends(harness.Backends.Select(b => b.Name == "builder-0" ? b with { State = BackendState.Draining } : b));
        var rebuilt = await BuildAsync(harness, Build(project));

        Assert.Equal("builder-1", rebuilt.Backend);
        Assert.Equal(MissCause.Moved, rebuilt.FirstMiss!.Cause);
        Assert.Equal("the key's last build ran on builder-0, not used now: builder-0 is draining; builder-1 never built it", rebuilt.FirstMiss.Detail);
    }

    [Fact]
    public async Task A_build_with_no_cache_says_the_client_asked_for_it()
    {
        await using var harness = await GatewayHarness.StartAsync(builders: 1);
        await BuildAsync(harness, Build("app"));

        var rebuilt = await BuildAsync(harness, Build("app", noCache: string.Empty));

        Assert.Equal(0, rebuilt.CachedSteps);
        Assert.Equal(new FirstMiss("[1/4] FROM reg/img:1@sha256:3e39b1c7c0a8", MissCause.NoCache, "the client asked for --no-cache"), rebuilt.FirstMiss);
    }
}
