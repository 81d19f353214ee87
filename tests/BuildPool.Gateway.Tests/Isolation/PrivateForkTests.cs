using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tests.Discovery;
using BuildPool.Gateway.Tests.Support;
using BuildPool.TestDoubles;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Isolation;

/// <summary>
/// Private volumes in pool mode against the local API: a burst beyond the builder's capacity asks
/// for forks, the overflow runs on them within the fork limits, and no build ever mixes a fork
/// and its base. The operator's part is played by <see cref="ForkOperatorDouble"/>.
/// </summary>
public sealed class PrivateForkTests
{
    private static void PrivatePool(BuilderPoolSpec spec, int maxPerVolume)
    {
        spec.Cache.Sharing = CacheSharing.Private;
        spec.Builder.MaxConcurrentBuilds = 2;
        spec.Cache.Forks = new ForkPolicy { MaxPerVolume = maxPerVolume, MaxPerPool = 8 };
        spec.Scaling.StartTimeout = "30s";
    }

    [Fact]
    public async Task A_burst_on_one_private_key_runs_its_overflow_on_exactly_the_forks_the_limit_allows()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ["pool-0"],
            pool: p => PrivatePool(p, maxPerVolume: 2),
            spareBuilders: ["pool-0-f0", "pool-0-f1", "pool-0-f2"]);
        await using var operatorDouble = new ForkOperatorDouble(h, maxPerVolume: 2, maxPerPool: 8);
        h.Fleet.Configure(b => b.HoldSolves = true);

        var builds = Enumerable.Range(0, 8)
            .Select(_ => h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "busy-project", Bootstrap = false, Timeout = TimeSpan.FromSeconds(60) }))
            .ToList();
        await Eventually.TrueAsync(
            () => h.Fleet.RunningSolves["pool-0"] == 2 && h.Fleet.RunningSolves["pool-0-f0"] == 2 && h.Fleet.RunningSolves["pool-0-f1"] == 2
                && h.Gateway.Admission.GetCounts("pool-0").Queued == 2,
            "two builds on the base, two on each fork, two queued on the base",
            TimeSpan.FromSeconds(30));

        Assert.Equal(["pool-0-f0", "pool-0-f1"], operatorDouble.Created.Order(StringComparer.Ordinal));
        Assert.Equal(0, h.Fleet.RunningSolves["pool-0-f2"]);
        Assert.True(int.Parse((await h.SignalAsync(GatewaySignalKind.Forks, "pool-0"))!.Detail!, System.Globalization.CultureInfo.InvariantCulture) >= 2);

        // Stop holding before releasing: a queued build admitted by a release would otherwise
        // reach its builder while it still holds new Solves, and wait forever.
        h.Fleet.Configure(b => b.HoldSolves = false);
        h.Fleet.ReleaseAll();
        var results = await Task.WhenAll(builds).Within(60);

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        Assert.Equal(4, results.Count(r => r.Builder == "pool-0"));
        Assert.Equal(2, results.Count(r => r.Builder == "pool-0-f0"));
        Assert.Equal(2, results.Count(r => r.Builder == "pool-0-f1"));
        // Every call each builder recorded belongs to a build that ran wholly on that builder:
        // no fork served a call of a base build, and the base none of a fork's build.
        foreach (var result in results)
        {
            Assert.Equal([result.Builder!], h.Fleet.BuildersOf(result.Ref));
        }

        foreach (var builder in h.Fleet.Builders)
        {
            var mine = results.Where(r => r.Builder == builder.Name).Select(r => r.Ref).ToHashSet(StringComparer.Ordinal);
            var sessions = results.Where(r => r.Builder == builder.Name).Select(r => r.SessionId).ToHashSet(StringComparer.Ordinal);
            foreach (var call in builder.Builds.Calls)
            {
                if (call.Ref is null && call.SessionId is null)
                {
                    // Keyless calls (the client's ListWorkers) go to any ready builder, never a fork.
                    Assert.DoesNotContain("-f", builder.Name, StringComparison.Ordinal);
                    continue;
                }

                Assert.True((call.Ref is not null && mine.Contains(call.Ref)) || (call.SessionId is not null && sessions.Contains(call.SessionId)),
                    $"{builder.Name} received {call.Method} of a build that ran elsewhere ({call.Ref ?? call.SessionId})");
            }
        }
    }

    [Fact]
    public async Task Once_its_forks_are_retired_the_private_volume_serves_its_key_alone_again()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ["pool-0"],
            pool: p => PrivatePool(p, maxPerVolume: 1),
            spareBuilders: ["pool-0-f0"]);
        await using var operatorDouble = new ForkOperatorDouble(h, maxPerVolume: 1, maxPerPool: 8);
        h.Fleet.Configure(b => b.HoldSolves = true);
        var burst = Enumerable.Range(0, 3)
            .Select(_ => h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "busy-project", Bootstrap = false, Timeout = TimeSpan.FromSeconds(60) }))
            .ToList();
        await Eventually.TrueAsync(() => h.Fleet.RunningSolves["pool-0-f0"] == 1, "the overflow build on the fork", TimeSpan.FromSeconds(30));
        // Stop holding before releasing: a queued build admitted by a release would otherwise
        // reach its builder while it still holds new Solves, and wait forever.
        h.Fleet.Configure(b => b.HoldSolves = false);
        h.Fleet.ReleaseAll();
        await Task.WhenAll(burst).Within(60);

        await operatorDouble.RetireOverflowForksAsync();
        await Eventually.TrueAsync(() => h.Gateway.Placement.Backends.All(b => b.ForkOf is null), "the gateway to drop the retired fork");
        var after = await h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "busy-project", Bootstrap = false });

        Assert.True(after.Succeeded, after.ToString());
        Assert.Equal(["pool-0"], h.Fleet.BuildersOf(after.Ref));
        Assert.Equal(BackendState.Ready, h.StateOf("pool-0"));
    }

    [Fact]
    public async Task A_shared_volume_at_capacity_queues_and_asks_for_no_fork()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ["pool-0"],
            pool: p =>
            {
                PrivatePool(p, maxPerVolume: 2);
                p.Cache.Sharing = CacheSharing.Shared;
            },
            spareBuilders: ["pool-0-f0"]);
        h.Fleet.Configure(b => b.HoldSolves = true);

        var builds = Enumerable.Range(0, 3).Select(_ => h.Client.BuildAsync(new FakeBuildxOptions { ContextName = "busy-project", Bootstrap = false })).ToList();
        await Eventually.TrueAsync(() => h.Gateway.Admission.GetCounts("pool-0") is { Running: 2, Queued: 1 }, "two running and one queued on pool-0");
        // Stop holding before releasing: a queued build admitted by a release would otherwise
        // reach its builder while it still holds new Solves, and wait forever.
        h.Fleet.Configure(b => b.HoldSolves = false);
        h.Fleet.ReleaseAll();
        var results = await Task.WhenAll(builds).Within(30);

        Assert.All(results, r => Assert.Equal("pool-0", r.Builder));
        Assert.Null(await h.SignalAsync(GatewaySignalKind.Forks, "pool-0"));
    }
}
