using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class RetentionTests
{
    private const string Ns = "default";

    private static BuilderPool Dedicated(string name, ReclaimPolicy reclaim, int maxVolumes = 4) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, Volumes = 1, MaxVolumes = maxVolumes },
            Scaling = new ScalingSpec { WarmBuilders = 0 },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "5Gi" }, ReclaimPolicy = reclaim },
        },
    };

    private static CacheVolume Pinned(string name, string pool, string retention) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new CacheVolumeSpec { Pool = pool, Keys = ["release"], Retention = new VolumeRetention { DeleteAfterIdle = retention } },
    };

    [Fact]
    public async Task An_idle_volume_of_a_delete_pool_past_its_retention_is_removed_and_a_retain_pool_keeps_its_volume()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Dedicated("temp", ReclaimPolicy.Delete));
        await h.Pools.CreateAsync(Dedicated("keep", ReclaimPolicy.Retain));
        await h.Volumes.CreateAsync(Pinned("temp-release", "temp", "1s"));
        await h.Volumes.CreateAsync(Pinned("keep-release", "keep", "1s"));

        // Each volume is reconciled on its own: the Delete pool's volume going says nothing about
        // whether the Retain pool's volume has written its claim and gone Idle yet, so wait for that.
        var keptClaim = await h.WaitAsync(() => h.Claims.GetAsync(Ns, "keep-release-state"), c => c is not null, "the Retain pool's claim");
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "keep-release"), v => v?.Status.Phase == CacheVolumePhase.Idle, "the Retain pool's volume to be Idle");
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "temp-release"), v => v is null, "the Delete pool's idle volume to be removed");
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "temp-release-state"), c => c is null, "its claim to be deleted");

        var kept = await h.Volumes.GetAsync(Ns, "keep-release");
        Assert.NotNull(kept);
        Assert.Null(kept!.Metadata.DeletionTimestamp);
        Assert.Equal(keptClaim!.Metadata.Uid, (await h.Claims.GetAsync(Ns, "keep-release-state"))?.Metadata.Uid);
    }

    [Fact]
    public async Task A_volume_with_a_running_builder_is_not_removed_by_retention()
    {
        await using var h = await OperatorHarness.StartAsync();
        var pool = Dedicated("temp", ReclaimPolicy.Delete);
        pool.Spec.Scaling.WarmBuilders = 1;
        await h.Pools.CreateAsync(pool);
        await h.Volumes.CreateAsync(Pinned("temp-release", "temp", "1s"));

        var ready = await h.WaitAsync(async () =>
        {
            await h.SimulateReadyDeploymentsAsync(Ns);
            return await h.Volumes.GetAsync(Ns, "temp-release");
        }, v => v?.Status.Phase == CacheVolumePhase.Ready, "the warm volume to be Ready");
        // Several probe rounds past the retention: still there.
        var probes = h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers");
        await h.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers")), n => n >= probes + 3, "three more probes");
        Assert.Null((await h.Volumes.GetAsync(Ns, "temp-release"))!.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task A_dedicated_pool_at_max_volumes_evicts_its_least_recently_used_idle_volume_for_a_new_key()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Dedicated("lru", ReclaimPolicy.Delete, maxVolumes: 1));
        await h.DemandAsync(Ns, "lru", "a");
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, DedicatedKeys.VolumeName("lru", "a")), v => v?.Status.Phase == CacheVolumePhase.Idle, "key a's idle volume");

        await h.DemandAsync(Ns, "lru", "b");

        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 1 && v[0].Spec.Keys![0] == "b", "key b to replace key a");
    }
}
