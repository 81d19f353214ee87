using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class DedicatedPoolTests
{
    private const string Ns = "default";

    [Theory]
    [InlineData(0)]
    // A busy API server: the operator's cache sees its own volume creations late, and must not
    // count fewer keys than already have a volume (that went past maxVolumes, 3 in 38 loaded runs).
    [InlineData(300)]
    public async Task Gateway_demand_creates_one_volume_per_key_up_to_max_volumes_and_the_rest_wait(int watchLagMilliseconds)
    {
        await using var h = await OperatorHarness.StartAsync();
        h.Server.Faults.WatchEventDelays["cachevolumes"] = TimeSpan.FromMilliseconds(watchLagMilliseconds);
        await h.Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "per", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, Volumes = 1, MaxVolumes = 2 },
                // Both volumes keep a running builder, so neither is idle and none may be evicted.
                Scaling = new ScalingSpec { WarmBuilders = 2 },
                Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "5Gi" } },
            },
        });
        await h.WaitAsync(() => h.Pools.GetAsync(Ns, "per"), p => p?.Status.ObservedGeneration == 1, "the pool's first status");
        Assert.Empty(await h.Volumes.ListAsync(Ns));

        // What gateway replicas do: one signal per key, merged independently.
        foreach (var key in new[] { "team/app", "team/api", "team/web" })
        {
            await h.DemandAsync(Ns, "per", key);
        }

        var volumes = await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 2, "two dedicated volumes");
        var keys = volumes.Select(v => Assert.Single(v.Spec.Keys!)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, keys.Distinct().Count());
        Assert.Subset(new HashSet<string> { "team/app", "team/api", "team/web" }, keys.ToHashSet());
        var waiting = new[] { "team/app", "team/api", "team/web" }.Except(keys).Single();
        Assert.All(volumes, v => Assert.Equal(DedicatedKeys.VolumeName("per", v.Spec.Keys![0]), v.Metadata.Name));

        var lease = await h.WaitAsync(() => h.Leases.GetAsync(Ns, GatewaySignals.LeaseName("per")),
            l => l!.Metadata.Annotations?.Count(a => a.Key.StartsWith(GatewaySignals.DemandPrefix, StringComparison.Ordinal)) == 1,
            "the served demands to be removed");
        Assert.EndsWith(" " + waiting, lease!.Metadata.Annotations![GatewaySignals.DemandName(waiting)], StringComparison.Ordinal);
        await h.WaitAsync(() => h.Pools.GetAsync(Ns, "per"),
            p => p!.Status.Conditions.Any(c => c.Type == "Ready" && c.Message.Contains("1 routing keys wait for a volume: spec.assignment.maxVolumes (2) reached", StringComparison.Ordinal)),
            "the status to say a key waits for a volume");
    }
}
