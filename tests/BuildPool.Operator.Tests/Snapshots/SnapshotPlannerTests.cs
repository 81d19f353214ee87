using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Snapshots;
using k8s.Models;

namespace BuildPool.Operator.Tests.Snapshots;

public sealed class SnapshotPlannerTests
{
    private static readonly DateTime Now = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    private static readonly CacheVolume Volume = new()
    {
        Metadata = new V1ObjectMeta { Name = "pool-0", NamespaceProperty = "ci", Uid = "u-1" },
        Spec = new CacheVolumeSpec { Pool = "pool" },
    };

    private static VolumeSnapshot Taken(TimeSpan ago) => new()
    {
        Metadata = new V1ObjectMeta { Name = SnapshotPlanner.Name("pool-0", Now - ago), CreationTimestamp = Now - ago },
    };

    private static SnapshotPlan Plan(int retain, params VolumeSnapshot[] existing) =>
        SnapshotPlanner.Plan(Volume, "pool-0-state", new SnapshotPolicy { VolumeSnapshotClassName = "csi", Schedule = "6h", Retain = retain }, TimeSpan.FromHours(6), existing, Now);

    [Fact]
    public void A_volume_without_snapshots_gets_one_of_its_claim_now()
    {
        var plan = Plan(3);

        Assert.NotNull(plan.Create);
        Assert.Equal("pool-0-20261122-120000", plan.Create!.Metadata.Name);
        Assert.Equal("pool-0-state", plan.Create.Spec.Source.PersistentVolumeClaimName);
        Assert.Equal("csi", plan.Create.Spec.VolumeSnapshotClassName);
        Assert.Empty(plan.Delete);
        Assert.Equal(TimeSpan.FromHours(6), plan.NextDue);
    }

    [Fact]
    public void A_snapshot_younger_than_the_schedule_means_none_is_due_until_it_ages()
    {
        var plan = Plan(3, Taken(TimeSpan.FromHours(2)));

        Assert.Null(plan.Create);
        Assert.Empty(plan.Delete);
        Assert.Equal(TimeSpan.FromHours(4), plan.NextDue);
    }

    [Fact]
    public void Beyond_the_retention_count_the_oldest_snapshots_are_deleted_and_never_the_new_one()
    {
        var oldest = Taken(TimeSpan.FromHours(30));
        var middle = Taken(TimeSpan.FromHours(18));
        var newer = Taken(TimeSpan.FromHours(7));

        var plan = Plan(2, newer, oldest, middle);

        Assert.NotNull(plan.Create);
        Assert.Equal([oldest.Metadata.Name, middle.Metadata.Name], plan.Delete.Select(s => s.Metadata.Name));
        Assert.Same(plan.Create, plan.Latest);
    }
}
