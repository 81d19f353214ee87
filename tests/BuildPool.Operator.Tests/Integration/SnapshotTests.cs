using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Snapshots;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>spec.cache.snapshots and spec.cloneFromSnapshot against the local API, with and without the snapshot CRD.</summary>
public sealed class SnapshotTests
{
    private const string Ns = "default";

    private static BuilderPool Pool(string schedule, int retain) => new()
    {
        Metadata = new V1ObjectMeta { Name = "snap", NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Volumes = 1 },
            Scaling = new ScalingSpec { WarmBuilders = 0 },
            Cache = new CacheSpec
            {
                Volume = new CacheVolumeTemplate { Size = "5Gi" },
                Snapshots = new SnapshotPolicy { VolumeSnapshotClassName = "csi-snapshots", Schedule = schedule, Retain = retain },
            },
        },
    };

    private static async Task<OperatorHarness> StartWithSnapshotCrdAsync()
    {
        var h = await OperatorHarness.StartAsync(startOperator: false);
        Assert.Equal(1, h.Server.ApplyCrdYaml(await File.ReadAllTextAsync(RepositoryPaths.VolumeSnapshotCrd)));
        h.StartOperator();
        return h;
    }

    [Fact]
    public async Task The_schedule_takes_snapshots_of_the_volume_claim_and_keeps_only_the_newest_ones()
    {
        await using var h = await StartWithSnapshotCrdAsync();
        var snapshots = new ResourceClient<VolumeSnapshot>(h.Kubernetes);
        await h.Pools.CreateAsync(Pool("1s", retain: 2));

        var first = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "snap-0"), v => v?.Status.LastSnapshot is not null, "a first snapshot of snap-0");
        var firstName = first!.Status.LastSnapshot!;
        var firstTime = first.Status.LastSnapshotTime!.Value;
        // Two more rounds of the schedule: the first snapshot is then beyond the two kept.
        var later = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "snap-0"), v => v?.Status.LastSnapshotTime >= firstTime.AddSeconds(2), "two more snapshots");
        var kept = await h.WaitAsync(() => snapshots.ListAsync(Ns), l => l.Count == 2 && l.All(s => s.Metadata.Name != firstName), "pruning to the two newest");

        Assert.Contains(kept, s => string.CompareOrdinal(s.Metadata.Name, later!.Status.LastSnapshot) >= 0);
        Assert.All(kept, s =>
        {
            Assert.Equal("snap-0-state", s.Spec.Source.PersistentVolumeClaimName);
            Assert.Equal("csi-snapshots", s.Spec.VolumeSnapshotClassName);
            Assert.Equal("snap", s.Metadata.Labels["buildpool.dev/pool"]);
            Assert.Equal("snap-0", s.Metadata.Labels["buildpool.dev/volume"]);
            var owner = Assert.Single(s.Metadata.OwnerReferences);
            Assert.Equal(("CacheVolume", "snap-0"), (owner.Kind, owner.Name));
        });
        var condition = Assert.Single(later!.Status.Conditions, c => c.Type == SnapshotScheduler.Condition);
        Assert.Equal(("True", "Scheduled"), (condition.Status, condition.Reason));
    }

    [Fact]
    public async Task Without_the_snapshot_CRD_the_volume_says_so_and_still_serves()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("1s", retain: 2));

        var volume = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "snap-0"),
            v => v?.Status.Conditions.Any(c => c.Type == SnapshotScheduler.Condition) == true && v.Status.Phase == CacheVolumePhase.Idle, "the snapshot condition");

        var condition = Assert.Single(volume!.Status.Conditions, c => c.Type == SnapshotScheduler.Condition);
        Assert.Equal(("False", SnapshotScheduler.CrdMissingReason), (condition.Status, condition.Reason));
        Assert.Contains("snapshot.storage.k8s.io/v1", condition.Message, StringComparison.Ordinal);
        Assert.True(volume.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True"), "the volume itself is healthy");
        Assert.Null(volume.Status.LastSnapshot);
    }

    [Fact]
    public async Task A_volume_restored_from_a_snapshot_names_it_in_its_claim_data_source()
    {
        await using var h = await StartWithSnapshotCrdAsync();
        await h.Pools.CreateAsync(Pool("24h", retain: 1));
        await h.Volumes.CreateAsync(new CacheVolume
        {
            Metadata = new V1ObjectMeta { Name = "restored", NamespaceProperty = Ns },
            Spec = new CacheVolumeSpec { Pool = "snap", CloneFromSnapshot = "snap-0-20260101-000000" },
        });

        var claim = await h.WaitAsync(() => h.Claims.GetAsync(Ns, "restored-state"), c => c is not null, "the restored volume's claim");

        Assert.Equal("snapshot.storage.k8s.io", claim!.Spec.DataSource.ApiGroup);
        Assert.Equal("VolumeSnapshot", claim.Spec.DataSource.Kind);
        Assert.Equal("snap-0-20260101-000000", claim.Spec.DataSource.Name);
    }

    [Fact]
    public async Task A_volume_naming_both_a_clone_source_and_a_snapshot_is_refused_at_apply_time_naming_both()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("24h", retain: 1));

        // The CRD's rule refuses it (the operator would stall it on spec.cloneFromSnapshot where rules are not enforced).
        var refused = await Assert.ThrowsAnyAsync<BuildPool.Runtime.Client.KubernetesApiException>(() => h.Volumes.CreateAsync(new CacheVolume
        {
            Metadata = new V1ObjectMeta { Name = "both", NamespaceProperty = Ns },
            Spec = new CacheVolumeSpec { Pool = "snap", CloneFrom = "snap-0", CloneFromSnapshot = "snap-0-20260101-000000" },
        }));

        Assert.Contains("spec.cloneFrom and spec.cloneFromSnapshot are exclusive", refused.Message, StringComparison.Ordinal);
        Assert.Null(await h.Volumes.GetAsync(Ns, "both"));
        Assert.Null(await h.Claims.GetAsync(Ns, "both-state"));
    }
}
