using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Volumes;

/// <summary><see cref="VolumeGrowth"/> as a table: claim size, policy and usage after pruning in; expansion or why it is full out.</summary>
public sealed class VolumeGrowthTests
{
    private const long Gi = 1L << 30;

    private sealed record Case(string? Claim, AutoGrowPolicy? Policy, long Used, string? ExpandTo, string? Full);

    private static AutoGrowPolicy Grow(string max = "15Gi", string step = "5Gi", string threshold = "85%") => new() { Threshold = threshold, Step = step, MaxSize = max };

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["Usage_at_the_threshold_fits"] = new("10Gi", Grow(), 8 * Gi + (Gi / 2), null, null),
        ["Usage_above_the_threshold_expands_the_claim_by_the_step"] = new("10Gi", Grow(max: "50Gi"), 9 * Gi, "15Gi", null),
        ["The_step_stops_at_the_maximum"] = new("10Gi", Grow(max: "12Gi"), 9 * Gi, "12Gi", null),
        ["A_step_below_one_gibibyte_grows_by_one"] = new("10Gi", Grow(step: "1%", max: "50Gi"), 9 * Gi, "11Gi", null),
        ["A_claim_at_the_maximum_is_full_naming_maxSize"] = new("15Gi", Grow(), 14 * Gi, null, "usage 14Gi of 15Gi after pruning, and spec.cache.autoGrow.maxSize (15Gi) is reached"),
        ["Without_autoGrow_a_volume_over_its_size_is_full"] = new("10Gi", null, 11 * Gi, null, "usage 11Gi of 10Gi after pruning, and spec.cache.autoGrow is not set"),
        ["Without_autoGrow_usage_within_the_size_fits"] = new("10Gi", null, 9 * Gi, null, null),
        ["A_claim_whose_size_is_unknown_never_grows"] = new(null, Grow(), 100 * Gi, null, null),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Grows_as_the_table_says(string name)
    {
        var c = Cases[name];
        var claim = c.Claim is null ? null : new V1PersistentVolumeClaim
        {
            Spec = new V1PersistentVolumeClaimSpec { Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(c.Claim) } } },
        };

        var verdict = VolumeGrowth.For(claim, c.Policy).Decide(c.Used);

        Assert.Equal((c.ExpandTo, c.Full), (verdict.ExpandTo, verdict.Full));
    }

    [Fact]
    public void A_storage_class_that_cannot_expand_is_named_in_the_reason()
    {
        var growth = new VolumeGrowth("10Gi", 10 * Gi, Grow());
        Assert.Equal("usage 9Gi of 10Gi after pruning, and StorageClass fixed does not allow volume expansion", growth.NotExpandable(9 * Gi, "fixed"));
        Assert.Equal("usage 9Gi of 10Gi after pruning, and StorageClass (default) does not allow volume expansion", growth.NotExpandable(9 * Gi, null));
    }
}
