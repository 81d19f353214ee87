using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Protocol;
using BuildPool.Operator.Rendering;
using BuildPool.Operator.Volumes;
using Google.Protobuf.WellKnownTypes;
using BuildkitVersion = BuildPool.Operator.Rendering.BuildkitVersion;

namespace BuildPool.Operator.Tests.Volumes;

public sealed class GcPlannerTests
{
    private static readonly DateTime Now = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);
    private const long Gi = 1L << 30;

    private static UsageRecord Mount(string id, string mountId, long size, double hoursAgo, bool inUse = false) => new()
    {
        ID = id,
        RecordType = "exec.cachemount",
        Description = $"cached mount /root/.cache from exec /bin/sh -c build with id \"{mountId}\"",
        Size = size,
        InUse = inUse,
        LastUsedAt = Timestamp.FromDateTime(Now.AddHours(-hoursAgo)),
    };

    private static UsageRecord Layer(string id, long size) => new() { ID = id, RecordType = "regular", Size = size, LastUsedAt = Timestamp.FromDateTime(Now) };

    private static GcBudget Budget(long size = 100 * Gi)
    {
        Assert.True(GcBudget.TryCompute(size, new GcPolicy(), null, out var budget, out var reason), reason);
        return budget;
    }

    [Fact]
    public void A_keep_duration_rule_prunes_exactly_the_stale_records_of_its_mount()
    {
        var records = new[] { Mount("a", "npm", Gi, 200), Mount("b", "npm", Gi, 1), Mount("c", "pip", Gi, 500), Layer("l", Gi) };
        var prune = Assert.Single(GcPlanner.Plan(records, [new CacheMountRule { Id = "npm", KeepDuration = "168h" }], Budget(), null, Now));
        Assert.Equal(["id==a"], prune.Request.Filter);
    }

    [Fact]
    public void A_max_size_rule_drops_least_recently_used_records_until_the_mount_fits()
    {
        var records = new[] { Mount("old", "go", 4 * Gi, 30), Mount("mid", "go", 4 * Gi, 20), Mount("new", "go", 4 * Gi, 1) };
        var prune = Assert.Single(GcPlanner.Plan(records, [new CacheMountRule { Id = "go", MaxSize = "5Gi" }], Budget(), null, Now));
        Assert.Equal(["id==mid", "id==old"], prune.Request.Filter);
    }

    [Fact]
    public void A_record_in_use_is_never_named_even_when_it_breaks_the_rule()
    {
        var records = new[] { Mount("busy", "npm", 10 * Gi, 900, inUse: true), Mount("idle", "npm", Gi, 900) };
        var prune = Assert.Single(GcPlanner.Plan(records, [new CacheMountRule { Id = "npm", KeepDuration = "1h", MaxSize = "1Gi" }], Budget(), null, Now));
        Assert.Equal(["id==idle"], prune.Request.Filter);
    }

    [Fact]
    public void Usage_above_max_used_space_asks_the_daemon_to_prune_down_to_it()
    {
        var budget = Budget(10 * Gi);
        var prune = Assert.Single(GcPlanner.Plan([Layer("l", 10 * Gi)], [], budget, new BuildkitVersion(0, 17, 3), Now));
        Assert.Empty(prune.Request.Filter);
        Assert.Equal(budget.MaxUsedSpaceBytes, prune.Request.MaxUsedSpace);
        Assert.Equal(budget.ReservedSpaceBytes, prune.Request.ReservedSpace);
    }

    [Fact]
    public void Before_buildkit_0_17_the_threshold_prune_uses_keep_bytes()
    {
        var budget = Budget(10 * Gi);
        var prune = Assert.Single(GcPlanner.Plan([Layer("l", 10 * Gi)], [], budget, new BuildkitVersion(0, 11, 6), Now));
        Assert.Equal(budget.MaxUsedSpaceBytes, prune.Request.ReservedSpace);
        Assert.Equal(0, prune.Request.MaxUsedSpace);
    }

    [Fact]
    public void Nothing_is_pruned_when_every_rule_holds_and_usage_is_within_budget() =>
        Assert.Empty(GcPlanner.Plan([Mount("a", "npm", Gi, 1), Layer("l", Gi)], [new CacheMountRule { Id = "npm", KeepDuration = "48h", MaxSize = "2Gi" }], Budget(), null, Now));

    [Fact]
    public void A_rule_may_name_the_mount_target_for_buildkit_versions_without_ids() =>
        Assert.True(GcPlanner.IsMount(new UsageRecord { Description = "cached mount /root/.npm from exec npm ci" }, "/root/.npm"));
}
