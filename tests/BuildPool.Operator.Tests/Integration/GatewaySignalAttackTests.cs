using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// What a hostile client can make the gateway write (any key, with any tenant's builds), and what
/// anyone who may label a CacheVolume can write, must never cost another project its cache or a
/// pool its gateway.
/// </summary>
public sealed class GatewaySignalAttackTests
{
    private const string Ns = "default";

    private static BuilderPool Dedicated(string name, int maxVolumes) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, Volumes = 1, MaxVolumes = maxVolumes },
            Scaling = new ScalingSpec { WarmBuilders = 0 },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "5Gi" }, ReclaimPolicy = ReclaimPolicy.Delete },
        },
    };

    [Fact]
    public async Task A_254_character_key_demand_never_stops_the_pool_from_applying_its_gateway_or_other_keys()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Dedicated("wedge", maxVolumes: 4));
        var gateway = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, ResourceNames.Gateway("wedge")), d => d is not null, "the gateway Deployment");

        // `docker buildx build -t <254 characters>`: the key is one over spec.keys' item limit.
        var hostile = "registry.example.test/" + new string('a', 254 - "registry.example.test/".Length);
        await h.DemandAsync(Ns, "wedge", hostile);
        await h.DemandAsync(Ns, "wedge", "team/app");
        // Someone deletes the gateway: a pool that still reconciles puts it back.
        await h.Deployments.DeleteAsync(Ns, gateway!.Metadata.Name);

        await h.WaitAsync(() => h.Deployments.GetAsync(Ns, ResourceNames.Gateway("wedge")), d => d is not null && d.Metadata.Uid != gateway.Metadata.Uid, "the gateway to be applied again");
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, DedicatedKeys.VolumeName("wedge", "team/app")), v => v is not null, "the valid key's volume");
        var events = await h.WaitAsync(() => new ResourceClient<Corev1Event>(h.Kubernetes).ListAsync(Ns), e => e.Any(x => x.Reason == "DemandDropped"), "an Event saying the demand was dropped");
        Assert.Contains("over the limit of 253", events.First(e => e.Reason == "DemandDropped").Message, StringComparison.Ordinal);
        Assert.Null(await h.Volumes.GetAsync(Ns, DedicatedKeys.VolumeName("wedge", hostile)));
        await h.WaitAsync(() => h.Leases.GetAsync(Ns, GatewaySignals.LeaseName("wedge")), l => l?.Metadata.Annotations?.ContainsKey(GatewaySignals.DemandName(hostile)) != true, "the bad demand to be removed");
    }

    [Fact]
    public async Task Random_keys_from_one_tenant_never_evict_another_tenants_idle_volumes()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Dedicated("shared", maxVolumes: 2));
        await h.DemandAsync(Ns, "shared", "team-b/app", tenant: "ci/team-b");
        await h.DemandAsync(Ns, "shared", "team-b/api", tenant: "ci/team-b");
        var victims = new[] { DedicatedKeys.VolumeName("shared", "team-b/app"), DedicatedKeys.VolumeName("shared", "team-b/api") };
        foreach (var name in victims)
        {
            await h.WaitAsync(() => h.Volumes.GetAsync(Ns, name), v => v?.Status.Phase == CacheVolumePhase.Idle, $"team B's idle volume {name}");
        }

        // Team A's builds tag random images: each is a new key asking for a volume.
        for (var i = 0; i < 5; i++)
        {
            await h.DemandAsync(Ns, "shared", $"team-a/random-{i}", tenant: "ci/team-a");
        }

        await h.WaitAsync(() => h.Pools.GetAsync(Ns, "shared"),
            p => p!.Status.Conditions.Any(c => c.Type == "Ready" && c.Message.Contains("5 routing keys wait for a volume", StringComparison.Ordinal)),
            "the pool to say team A's keys wait");
        // The reconcile that found them waiting is the one that would have evicted (before its status write).
        foreach (var name in victims)
        {
            var volume = await h.Volumes.GetAsync(Ns, name);
            Assert.NotNull(volume);
            Assert.Null(volume!.Metadata.DeletionTimestamp);
        }
    }

    [Fact]
    public async Task A_fork_of_label_added_to_a_retain_volume_never_deletes_its_cache()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.CreateReadyPoolAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "keep", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 2 },
                Scaling = new ScalingSpec { WarmBuilders = 2 },
                Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "5Gi" }, ReclaimPolicy = ReclaimPolicy.Retain },
            },
        });
        var claim = await h.WaitAsync(() => h.Claims.GetAsync(Ns, ResourceNames.StateClaim("keep-0")), c => c is not null, "keep-0's claim");

        // What the gateway's identity could write before: a label that made a volume a fork.
        await h.Volumes.PatchAsync(Ns, "keep-0", new { metadata = new { labels = new Dictionary<string, string> { [LifecycleAnnotations.ForkOfLabel] = "keep-1" } } });
        var probes = h.Daemon.Daemon.Calls.Count;
        await h.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count), n => n >= probes + 6, "more probe rounds");
        // Then the volume goes, as a person would remove it (the pool makes it again).
        var uid = (await h.Volumes.GetAsync(Ns, "keep-0"))!.Metadata.Uid;
        await h.Volumes.DeleteAsync(Ns, "keep-0");
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "keep-0"), v => v is null || v.Metadata.Uid != uid, "keep-0 to be finalized");

        var kept = await h.Claims.GetAsync(Ns, ResourceNames.StateClaim("keep-0"));
        Assert.NotNull(kept);
        Assert.Equal(claim!.Metadata.Uid, kept!.Metadata.Uid);
        Assert.Equal(nameof(ReclaimPolicy.Retain), kept.Metadata.Labels[BuilderChildrenPlanner.ReclaimPolicyLabel]);
    }
}
