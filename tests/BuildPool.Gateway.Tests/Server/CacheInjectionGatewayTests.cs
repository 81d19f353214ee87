using BuildPool.Gateway.Routing;
using BuildPool.TestDoubles;

namespace BuildPool.Gateway.Tests.Server;

public sealed class CacheInjectionGatewayTests
{
    private static readonly CacheInjectionOptions Injection = new()
    {
        RefTemplate = "cache.internal:5000/cache/{key}",
        ExportAttributes = new Dictionary<string, string> { ["image-manifest"] = "true" },
    };

    [Fact]
    public async Task A_build_without_a_cache_gets_the_pools_registry_cache_for_its_key()
    {
        await using var harness = await GatewayHarness.StartAsync(configure: o => o with { CacheInjection = Injection });

        var result = await harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = "ctx", ExporterImage = "example.test/Team/App:v1", Bootstrap = false });

        Assert.True(result.Succeeded, result.ToString());
        var solve = harness.Fleet[result.Builder!].Builds.Solves.Single(s => s.Ref == result.Ref);
        Assert.Equal(["cache.internal:5000/cache/example.test-team-app"], solve.CacheExportRefs);
        Assert.Equal(["cache.internal:5000/cache/example.test-team-app"], solve.CacheImportRefs);
        Assert.Equal("example.test/Team/App:v1", solve.ExporterImageName);
    }

    [Fact]
    public async Task A_build_that_brings_its_own_cache_is_left_as_it_is()
    {
        await using var harness = await GatewayHarness.StartAsync(configure: o => o with { CacheInjection = Injection });

        var result = await harness.Client.BuildAsync(new FakeBuildxOptions
        {
            ContextName = "ctx",
            CacheExports = ["own.cache.internal/app:cache"],
            Bootstrap = false,
        });

        Assert.True(result.Succeeded, result.ToString());
        var solve = harness.Fleet[result.Builder!].Builds.Solves.Single(s => s.Ref == result.Ref);
        Assert.Equal(["own.cache.internal/app:cache"], solve.CacheExportRefs);
        Assert.Empty(solve.CacheImportRefs);
    }

    [Fact]
    public async Task Without_the_opt_in_no_build_is_changed()
    {
        await using var harness = await GatewayHarness.StartAsync();
        var result = await harness.Client.BuildAsync(new FakeBuildxOptions { ContextName = "ctx", ExporterImage = "example.test/app:v1", Bootstrap = false });
        Assert.True(result.Succeeded, result.ToString());
        var solve = harness.Fleet[result.Builder!].Builds.Solves.Single(s => s.Ref == result.Ref);
        Assert.Empty(solve.CacheExportRefs);
    }
}
