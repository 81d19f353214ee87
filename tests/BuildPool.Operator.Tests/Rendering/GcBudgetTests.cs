using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Rendering;
using CsCheck;

namespace BuildPool.Operator.Tests.Rendering;

public class GcBudgetTests
{
    private const long Gi = 1L << 30;

    private static GcBudget Compute(long size, GcPolicy gc, params CacheMountRule[] rules)
    {
        Assert.True(GcBudget.TryCompute(size, gc, rules, out var budget, out var reason), reason);
        return budget;
    }

    [Fact]
    public void Default_policy_on_100Gi_reserves_10Gi_caps_at_80Gi_and_keeps_10Gi_free()
    {
        var budget = Compute(100 * Gi, new GcPolicy());
        Assert.Equal(10 * Gi, budget.ReservedSpaceBytes);
        Assert.Equal(80 * Gi, budget.MaxUsedSpaceBytes);
        Assert.Equal(10 * Gi, budget.MinFreeSpaceBytes);
        Assert.Equal(TimeSpan.FromHours(48), budget.KeepDuration);
        Assert.Empty(budget.Adjustments);
    }

    [Fact]
    public void Quantities_are_used_as_given_whatever_the_volume_size()
    {
        var budget = Compute(500 * Gi, new GcPolicy { ReservedSpace = "20Gi", MaxUsedSpace = "400Gi", MinFreeSpace = "50Gi" });
        Assert.Equal((20 * Gi, 400 * Gi, 50 * Gi), (budget.ReservedSpaceBytes, budget.MaxUsedSpaceBytes, budget.MinFreeSpaceBytes));
    }

    [Fact]
    public void MaxUsedSpace_is_lowered_so_that_minFreeSpace_stays_free()
    {
        var budget = Compute(100 * Gi, new GcPolicy { MaxUsedSpace = "95%", MinFreeSpace = "10%" });
        Assert.Equal(90 * Gi, budget.MaxUsedSpaceBytes);
        Assert.Contains(budget.Adjustments, a => a.Contains("maxUsedSpace 95% lowered to 90Gi", StringComparison.Ordinal));
    }

    [Fact]
    public void ReservedSpace_above_maxUsedSpace_is_lowered_because_BuildKit_would_let_it_win()
    {
        var budget = Compute(100 * Gi, new GcPolicy { ReservedSpace = "90Gi", MaxUsedSpace = "50Gi" });
        Assert.Equal(50 * Gi, budget.ReservedSpaceBytes);
        Assert.Contains(budget.Adjustments, a => a.StartsWith("reservedSpace 90Gi lowered to 50Gi", StringComparison.Ordinal));
    }

    [Fact]
    public void MinFreeSpace_larger_than_the_volume_leaves_no_room_for_cache()
    {
        var budget = Compute(10 * Gi, new GcPolicy { MinFreeSpace = "20Gi" });
        Assert.Equal((0L, 0L, 10 * Gi), (budget.ReservedSpaceBytes, budget.MaxUsedSpaceBytes, budget.MinFreeSpaceBytes));
        Assert.Equal(3, budget.Adjustments.Count);
    }

    [Fact]
    public void Limits_always_fit_together_on_any_volume() =>
        Gen.Select(Gen.Long[1, 1L << 50], Limit, Limit, Limit).Sample((size, reserved, maxUsed, minFree) =>
        {
            var b = Compute(size, new GcPolicy { ReservedSpace = reserved, MaxUsedSpace = maxUsed, MinFreeSpace = minFree });
            Assert.InRange(b.MinFreeSpaceBytes, 0, size);
            Assert.InRange(b.MaxUsedSpaceBytes, 0, size - b.MinFreeSpaceBytes);
            Assert.InRange(b.ReservedSpaceBytes, 0, b.MaxUsedSpaceBytes);
        });

    private static readonly Gen<string> Limit = Gen.OneOf(
        Gen.Int[0, 100].Select(p => p + "%"),
        Gen.Long[0, 1L << 20].Select(m => m + "Mi"));

    [Theory]
    [InlineData("reservedSpace", "spec.cache.gc.reservedSpace: \"ten\" is not a quantity")]
    [InlineData("maxUsedSpace", "spec.cache.gc.maxUsedSpace: \"ten\" is not a quantity")]
    [InlineData("minFreeSpace", "spec.cache.gc.minFreeSpace: \"ten\" is not a quantity")]
    [InlineData("keepDuration", "spec.cache.gc.keepDuration: \"ten\" is not a duration")]
    public void An_unreadable_limit_is_reported_with_its_field(string field, string expected)
    {
        var gc = new GcPolicy();
        typeof(GcPolicy).GetProperty(char.ToUpperInvariant(field[0]) + field[1..])!.SetValue(gc, "ten");
        Assert.False(GcBudget.TryCompute(100 * Gi, gc, null, out _, out var reason));
        Assert.StartsWith(expected, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_cache_mount_duration_is_reported_with_its_index()
    {
        Assert.False(GcBudget.TryCompute(100 * Gi, new GcPolicy(), [new CacheMountRule { Id = "a" }, new CacheMountRule { Id = "b", KeepDuration = "7d" }], out _, out var reason));
        Assert.StartsWith("spec.cache.cacheMounts[1].keepDuration: \"7d\" is not a duration: unknown unit \"d\"", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Cache_mounts_are_kept_as_long_as_the_longest_rule_asks()
    {
        var budget = Compute(100 * Gi, new GcPolicy { KeepDuration = "48h" },
            new CacheMountRule { Id = "go", KeepDuration = "168h" },
            new CacheMountRule { Id = "npm", KeepDuration = "1h" });
        Assert.Equal(TimeSpan.FromHours(48), budget.KeepDuration);
        Assert.Equal(TimeSpan.FromHours(168), budget.CacheMountKeepDuration);
    }

    [Theory]
    [InlineData(50, 40, 0)] // within maxUsedSpace and plenty of free space
    [InlineData(85, 15, 5)] // over maxUsedSpace (80Gi)
    [InlineData(60, 5, 5)] // free space 5Gi short of minFreeSpace (10Gi)
    [InlineData(15, 1, 5)] // short of free space, but never below reservedSpace (10Gi)
    public void BuildKit_frees_what_exceeds_the_budget(long usedGi, long freeGi, long freedGi) =>
        Assert.Equal(freedGi * Gi, Compute(100 * Gi, new GcPolicy()).BytesToFree(usedGi * Gi, freeGi * Gi));
}
