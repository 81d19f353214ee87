using BuildPool.BuildKit.Protocol;
using BuildPool.TestDoubles;

namespace BuildPool.Gateway.Tests.TestDoubles;

/// <summary>
/// The fake builder's Status stream for a Dockerfile build, held to what real buildkitd sends
/// (BUILDKIT-FACTS, "Vertex digests are not cache keys"): the cause-of-miss tests are only as
/// good as this.
/// </summary>
public sealed class FakeDockerfileBuildTests : IAsyncLifetime
{
    private FakeBuilderFleet _fleet = null!;

    public async Task InitializeAsync() => _fleet = await FakeBuilderFleet.StartAsync(2);

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    private Task<FakeBuildxResult> BuildAsync(int builder = 0, string context = "context-1", IReadOnlyDictionary<string, string>? args = null, string? noCache = null, FakeDockerfile? dockerfile = null) =>
        new FakeBuildxClient(_fleet[builder].EndPoint).BuildAsync(new FakeBuildxOptions
        {
            Bootstrap = false,
            Dockerfile = dockerfile ?? FakeDockerfile.FourSteps(),
            ContextContentId = context,
            BuildArgs = args ?? new Dictionary<string, string>(),
            NoCache = noCache,
        });

    private static Vertex Step(FakeBuildxResult result, string prefix) => result.Vertexes.Single(v => v.Name.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public async Task Vertex_names_are_the_dockerfile_frontends_with_build_arguments_substituted()
    {
        var result = await BuildAsync(args: new Dictionary<string, string> { ["V"] = "7" });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(
            [
                "[internal] load build definition from Dockerfile",
                "[internal] load .dockerignore",
                "[internal] load metadata for reg/img:1",
                "[internal] load build context",
                "[1/4] FROM reg/img:1@sha256:3e39b1c7c0a8",
                "[2/4] RUN echo base-7 > /b",
                "[3/4] COPY data.txt /d",
                "[4/4] RUN cat /d /b > /e",
            ],
            result.Vertexes.Select(v => v.Name));
        Assert.Equal([Step(result, "[2/4]").Digest, Step(result, "[internal] load build context").Digest], Step(result, "[3/4]").Inputs);
    }

    [Fact]
    public async Task An_identical_rebuild_is_cached_and_keeps_only_the_context_free_digests()
    {
        var first = await BuildAsync();
        var second = await BuildAsync();

        Assert.Equal(0, first.CachedSteps);
        Assert.All(second.Vertexes, v => Assert.Equal(!v.Name.StartsWith("[internal]", StringComparison.Ordinal), v.Cached));
        // FROM and [2/4] do not read the context: same digests. [3/4], [4/4] and [internal]: new ones.
        foreach (var (name, stable) in new[] { ("[1/4]", true), ("[2/4]", true), ("[3/4]", false), ("[4/4]", false), ("[internal] load build context", false), ("[internal] load build definition", false) })
        {
            Assert.Equal(stable, Step(first, name).Digest == Step(second, name).Digest);
        }
    }

    [Fact]
    public async Task A_changed_context_misses_from_the_copy_on_and_a_changed_argument_from_its_step_on()
    {
        await BuildAsync();
        var edited = await BuildAsync(context: "context-2");
        var otherArg = await BuildAsync(context: "context-2", args: new Dictionary<string, string> { ["V"] = "2" });

        Assert.Equal([true, true, false, false], edited.Vertexes.Skip(4).Select(v => v.Cached));
        Assert.Equal([true, false, false, false], otherArg.Vertexes.Skip(4).Select(v => v.Cached));
        Assert.NotEqual(Step(edited, "[2/4]").Digest, Step(otherArg, "[2/4]").Digest);
        Assert.Equal("[2/4] RUN echo base-2 > /b", Step(otherArg, "[2/4]").Name);
    }

    [Fact]
    public async Task Each_builder_has_its_own_cache_and_a_prune_empties_it()
    {
        await BuildAsync(builder: 0);
        var elsewhere = await BuildAsync(builder: 1);
        _fleet[0].Builds.Cache.Clear();
        var afterPrune = await BuildAsync(builder: 0);

        Assert.Equal(0, elsewhere.CachedSteps);
        Assert.Equal(0, afterPrune.CachedSteps);
        Assert.Equal(1, _fleet[0].Builds.Cache.Prunes);
    }

    [Fact]
    public async Task No_cache_runs_every_step_and_a_filter_runs_its_stage_and_what_follows()
    {
        var dockerfile = FakeDockerfile.MultiStage();
        await BuildAsync(dockerfile: dockerfile);
        var all = await BuildAsync(dockerfile: dockerfile, noCache: string.Empty);
        var stage = await BuildAsync(dockerfile: dockerfile, noCache: "stage-1");

        Assert.Equal(0, all.CachedSteps);
        Assert.Equal(["[build 1/5]", "[build 2/5]", "[build 3/5]", "[build 4/5]", "[build 5/5]"], stage.Vertexes.Where(v => v.Cached).Select(v => v.Name[..11]));
        Assert.False(Step(stage, "[stage-1 2/2]").Cached);
    }
}
