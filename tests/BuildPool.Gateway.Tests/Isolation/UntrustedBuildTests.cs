using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tests.Discovery;
using BuildPool.Gateway.Tests.Support;
using BuildPool.TestDoubles;
using Grpc.Core;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Isolation;

/// <summary>
/// Untrusted builds (spec.routing.untrustedKeys) in pool mode: each runs on its own isolated fork,
/// which the gateway releases after the build, and none ever reaches a builder trusted builds use.
/// The operator's part is played by <see cref="ForkOperatorDouble"/>.
/// </summary>
public sealed class UntrustedBuildTests
{
    private static readonly string[] Volumes = ["pool-0", "pool-1", "pool-2"];

    private static string[] IsolatedBuilders(int count) => [.. Enumerable.Range(0, count).Select(i => $"iso-{i}")];

    private static Action<BuilderPoolSpec> Pool(string startTimeout = "30s", int maxPerVolume = 8, int maxPerPool = 8) => p =>
    {
        p.Routing.UntrustedKeys = ["pr-*"];
        p.Scaling.StartTimeout = startTimeout;
        p.Cache.Forks = new ForkPolicy { MaxPerVolume = maxPerVolume, MaxPerPool = maxPerPool };
    };

    [Fact]
    public async Task An_untrusted_build_runs_alone_on_an_isolated_fork_of_its_keys_volume_which_is_released_after_it()
    {
        await using var h = await PoolGatewayHarness.StartAsync(Volumes, pool: Pool(), spareBuilders: IsolatedBuilders(2));
        await using var operatorDouble = new ForkOperatorDouble(h, maxPerVolume: 8, maxPerPool: 8, IsolatedBuilders(2));
        var home = h.Gateway.Placement.Place("pr-17").Backend!.Id;

        var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "pr-17", Bootstrap = false });

        Assert.True(result.Succeeded, result.ToString());
        var fork = Assert.Single(operatorDouble.Created);
        Assert.StartsWith(home + "-i", fork, StringComparison.Ordinal);
        Assert.Equal([operatorDouble.BuilderOf[fork]], h.Fleet.BuildersOf(result.Ref));
        Assert.All(Volumes, v => Assert.DoesNotContain(h.Fleet[v].Builds.Calls, c => c.Ref == result.Ref || c.SessionId == result.SessionId));
        await Eventually.TrueAsync(() => operatorDouble.Released.Contains(fork), "the gateway to release the isolated fork after the build");
        Assert.Null(await h.SignalAsync(GatewaySignalKind.Isolate, home));
        var summary = await global::BuildPool.TestDoubles.Eventually.WaitAsync(() => Task.FromResult(h.Gateway.Builds.RecentBuilds.FirstOrDefault(b => b.Ref == result.Ref)), s => s is not null, "the build's summary");
        Assert.Equal("isolated", summary!.Isolation);
    }

    [Fact]
    public async Task An_untrusted_build_imports_the_pools_injected_cache_but_never_exports_to_it()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            Volumes,
            pool: Pool(),
            spareBuilders: IsolatedBuilders(1),
            gateway: o => o with { CacheInjection = new CacheInjectionOptions { RefTemplate = "cache.internal:5000/cache/{key}" } });
        await using var operatorDouble = new ForkOperatorDouble(h, maxPerVolume: 8, maxPerPool: 8, IsolatedBuilders(1));

        var untrusted = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "pr-17", Bootstrap = false });
        var trusted = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "app", Bootstrap = false });

        Assert.True(untrusted.Succeeded, untrusted.ToString());
        Assert.True(trusted.Succeeded, trusted.ToString());
        var isolated = h.Fleet["iso-0"].Builds.Solves.Single(s => s.Ref == untrusted.Ref);
        Assert.Equal(["cache.internal:5000/cache/pr-17"], isolated.CacheImportRefs);
        Assert.Empty(isolated.CacheExportRefs);
        var shared = h.Fleet[trusted.Builder!].Builds.Solves.Single(s => s.Ref == trusted.Ref);
        Assert.Equal(["cache.internal:5000/cache/app"], shared.CacheExportRefs);
    }

    [Fact]
    public async Task An_untrusted_build_imports_a_managed_registrys_cache_from_its_read_only_ref_and_a_trusted_one_imports_and_exports_the_read_write_ref()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            Volumes,
            pool: Pool(),
            spareBuilders: IsolatedBuilders(1),
            gateway: o => o with
            {
                CacheInjection = new CacheInjectionOptions
                {
                    RefTemplate = "cache-registry.ci.svc:5000/cache/{key}",
                    UntrustedRefTemplate = "cache-registry.ci.svc:5001/cache/{key}",
                },
            });
        await using var operatorDouble = new ForkOperatorDouble(h, maxPerVolume: 8, maxPerPool: 8, IsolatedBuilders(1));

        var untrusted = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "pr-17", Bootstrap = false });
        var trusted = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "app", Bootstrap = false });

        Assert.True(untrusted.Succeeded, untrusted.ToString());
        Assert.True(trusted.Succeeded, trusted.ToString());
        var isolated = h.Fleet["iso-0"].Builds.Solves.Single(s => s.Ref == untrusted.Ref);
        Assert.Equal(["cache-registry.ci.svc:5001/cache/pr-17"], isolated.CacheImportRefs);
        Assert.Empty(isolated.CacheExportRefs);
        var shared = h.Fleet[trusted.Builder!].Builds.Solves.Single(s => s.Ref == trusted.Ref);
        Assert.Equal(["cache-registry.ci.svc:5000/cache/app"], shared.CacheImportRefs);
        Assert.Equal(["cache-registry.ci.svc:5000/cache/app"], shared.CacheExportRefs);
    }

    [Fact]
    public async Task An_untrusted_build_that_brings_its_own_export_to_the_pools_registry_cache_is_refused_and_reaches_no_builder()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            Volumes,
            // The fork-PR jobs push an image, whose name (ranked above the cache ref) is their key.
            pool: p =>
            {
                Pool()(p);
                p.Routing.UntrustedKeys = ["pr-*", "reg.test/pr-*"];
            },
            spareBuilders: IsolatedBuilders(2),
            gateway: o => o with { CacheInjection = new CacheInjectionOptions { RefTemplate = "cache.internal:5000/cache/{key}" } });
        await using var operatorDouble = new ForkOperatorDouble(h, maxPerVolume: 8, maxPerPool: 8, IsolatedBuilders(2));

        // A fork-PR job aiming at the cache trusted builds of "app" import, next to an export of its own.
        var poisoning = await h.Client.BuildAsync(new FakeBuildxOptions
        {
            ExporterImage = "reg.test/pr-17:latest",
            Bootstrap = false,
            CacheExports = ["registry.example.test/pr/cache", "CACHE.internal:5000/cache/app"],
        });
        var own = await h.Client.BuildAsync(new FakeBuildxOptions { ExporterImage = "reg.test/pr-18:latest", Bootstrap = false, CacheExports = ["registry.example.test/pr/cache"] });

        Assert.Equal(StatusCode.PermissionDenied, poisoning.Status);
        Assert.Equal("an untrusted build may not export a cache to the pool's registry cache (CACHE.internal:5000/cache/app): trusted builds import it", poisoning.Message);
        Assert.Empty(h.Fleet.CallsOf(poisoning.Ref));
        Assert.True(own.Succeeded, own.ToString());
        var solve = h.Fleet.Builders.SelectMany(b => b.Builds.Solves).Single(s => s.Ref == own.Ref);
        Assert.StartsWith("iso-", solve.Builder, StringComparison.Ordinal);
        Assert.Equal(["registry.example.test/pr/cache"], solve.CacheExportRefs);
    }

    [Fact]
    public async Task Fifty_concurrent_mixed_builds_never_put_an_untrusted_build_on_a_builder_trusted_builds_use()
    {
        await using var h = await PoolGatewayHarness.StartAsync(Volumes, pool: Pool(startTimeout: "1m"), spareBuilders: IsolatedBuilders(8));
        await using var operatorDouble = new ForkOperatorDouble(h, maxPerVolume: 8, maxPerPool: 8, IsolatedBuilders(8));

        var builds = Enumerable.Range(0, 50)
            .Select(i => h.Client.BuildAsync(new FakeBuildxOptions
            {
                ContextName = i % 2 == 0 ? $"pr-{i}" : $"app-{i % 5}",
                Bootstrap = false,
                Timeout = TimeSpan.FromSeconds(90),
            }))
            .ToList();
        var results = await Task.WhenAll(builds).Within(120);

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        var untrusted = results.Where(r => r.SharedKey.StartsWith("pr-", StringComparison.Ordinal)).ToList();
        var trusted = results.Except(untrusted).ToList();
        var untrustedIds = untrusted.SelectMany(r => new[] { r.Ref, r.SessionId }).ToHashSet(StringComparer.Ordinal);
        var trustedIds = trusted.SelectMany(r => new[] { r.Ref, r.SessionId }).ToHashSet(StringComparer.Ordinal);
        // Every call every trusted builder recorded: none belongs to an untrusted build.
        foreach (var volume in Volumes)
        {
            Assert.All(h.Fleet[volume].Builds.Calls, c => Assert.False(
                (c.Ref is not null && untrustedIds.Contains(c.Ref)) || (c.SessionId is not null && untrustedIds.Contains(c.SessionId)),
                $"trusted builder {volume} received {c.Method} of an untrusted build"));
        }

        // And every call an isolated builder recorded belongs to an untrusted build: nothing trusted ran there.
        foreach (var isolated in IsolatedBuilders(8))
        {
            Assert.All(h.Fleet[isolated].Builds.Calls, c => Assert.False(
                (c.Ref is not null && trustedIds.Contains(c.Ref)) || (c.SessionId is not null && trustedIds.Contains(c.SessionId)) || (c.Ref is null && c.SessionId is null),
                $"isolated builder {isolated} received {c.Method} of a trusted or keyless call"));
        }

        Assert.All(untrusted, r => Assert.StartsWith("iso-", Assert.Single(h.Fleet.BuildersOf(r.Ref)), StringComparison.Ordinal));
        Assert.All(trusted, r => Assert.Contains(Assert.Single(h.Fleet.BuildersOf(r.Ref)), Volumes));
        // One fork per untrusted build, each released when its build ended.
        Assert.Equal(untrusted.Count, operatorDouble.Created.Distinct(StringComparer.Ordinal).Count());
        await Eventually.TrueAsync(() => operatorDouble.Released.Count == untrusted.Count, "every isolated fork to be released", TimeSpan.FromSeconds(30));
        Assert.True(operatorDouble.MaxForks <= 8, $"at most maxPerPool forks at once, saw {operatorDouble.MaxForks}");
        Assert.Equal(untrusted.Count, h.Gateway.Builds.RecentBuilds.Count(b => b.Isolation == "isolated"));
    }

    [Fact]
    public async Task An_untrusted_build_whose_fork_never_comes_fails_clearly_instead_of_using_a_trusted_builder()
    {
        await using var h = await PoolGatewayHarness.StartAsync(Volumes, pool: Pool(startTimeout: "1s"));
        var home = h.Gateway.Placement.Place("pr-9").Backend!.Id;

        var result = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "pr-9", Bootstrap = false });

        Assert.False(result.Succeeded);
        Assert.Equal(StatusCode.Unavailable, result.Status);
        Assert.Contains("never fall back", result.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fleet.CallsOf(result.Ref));
        Assert.All(h.Fleet.Builders, b => Assert.DoesNotContain(b.Builds.Calls, c => c.SessionId == result.SessionId));
        // It asked for the fork, and gave the request back when it gave up.
        await global::BuildPool.TestDoubles.Eventually.TrueAsync(
            async () => await h.SignalAsync(GatewaySignalKind.Isolate, home) is null,
            "the isolation request to be withdrawn");
    }
}
