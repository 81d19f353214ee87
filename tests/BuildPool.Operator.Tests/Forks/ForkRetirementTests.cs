using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Forks;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Tests.Signals;
using k8s.Models;

namespace BuildPool.Operator.Tests.Forks;

/// <summary><see cref="ForkRetirement.Decide"/> as a table: a fork and its base in; whether it goes, and why, out.</summary>
public sealed class ForkRetirementTests
{
    private static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(10);

    /// <param name="Why">Why the fork goes, or null when it stays.</param>
    /// <param name="Recheck">When a fork that stays could next be idle.</param>
    /// <param name="Seeded">Its Seeded condition as "status reason", when it stays.</param>
    private sealed record Case((CacheVolume Volume, VolumeSignals Signals) Fork, (CacheVolume Volume, VolumeSignals Signals)? Base, string? Why, TimeSpan? Recheck, string? Seeded);

    private static (CacheVolume, VolumeSignals) Fork(string? isolatedFor = null, int active = 0, TimeSpan? usedAgo = null, bool cloned = true) => (new CacheVolume
    {
        Metadata = new V1ObjectMeta
        {
            Name = isolatedFor is null ? "ci-0-f0" : ResourceNames.IsolatedFork("ci-0", isolatedFor),
            CreationTimestamp = Now - TimeSpan.FromHours(1),
            Labels = isolatedFor is null
                ? new Dictionary<string, string> { [LifecycleAnnotations.ForkOfLabel] = "ci-0" }
                : new Dictionary<string, string> { [LifecycleAnnotations.ForkOfLabel] = "ci-0", [LifecycleAnnotations.IsolatedForLabel] = isolatedFor },
            OwnerReferences = [new V1OwnerReference { ApiVersion = GroupVersion.ApiVersion, Kind = CacheVolume.KubeKind, Name = "ci-0", Uid = "u-0", Controller = true }],
        },
        Spec = new CacheVolumeSpec { Pool = "ci", CloneFrom = cloned ? "ci-0" : null },
        Status = new CacheVolumeStatus { ActiveBuilds = active },
    }, usedAgo is { } ago ? TestSignals.For("ci-0-f0", GatewaySignals.Used("ci-0-f0", Now - ago)) : VolumeSignals.None);

    private static (CacheVolume, VolumeSignals) Base(string? isolating = null, bool deleting = false) => (new CacheVolume
    {
        Metadata = new V1ObjectMeta { Name = "ci-0", DeletionTimestamp = deleting ? Now : null },
        Spec = new CacheVolumeSpec { Pool = "ci" },
    }, isolating is null ? VolumeSignals.None : TestSignals.For("ci-0", GatewaySignals.Isolate("ci-0", isolating, Now)));

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["A_fork_whose_base_is_gone_goes"] = new(Fork(usedAgo: TimeSpan.Zero), null, "its base volume ci-0 is gone", null, null),
        ["A_fork_whose_base_is_being_deleted_goes"] = new(Fork(usedAgo: TimeSpan.Zero), Base(deleting: true), "its base volume ci-0 is gone", null, null),
        ["An_isolated_fork_goes_when_its_untrusted_build_ended"] = new(Fork(isolatedFor: "b1", usedAgo: TimeSpan.Zero), Base(), "its untrusted build b1 ended", null, null),
        ["An_isolated_fork_stays_while_its_build_runs"] = new(Fork(isolatedFor: "b1", usedAgo: TimeSpan.FromMinutes(4)), Base(isolating: "b1"), null, TimeSpan.FromMinutes(6), "True ClonedFromBase"),
        ["An_overflow_fork_idle_for_the_fork_idle_timeout_goes"] = new(Fork(usedAgo: TimeSpan.FromMinutes(12)), Base(), "idle for 12m", null, null),
        ["A_fork_with_running_builds_stays_however_long_ago_it_was_last_used"] = new(Fork(active: 1, usedAgo: TimeSpan.FromMinutes(12)), Base(), null, Idle, "True ClonedFromBase"),
        ["A_fork_that_could_not_be_cloned_says_it_started_empty"] = new(Fork(usedAgo: TimeSpan.FromMinutes(1), cloned: false), Base(), null, TimeSpan.FromMinutes(9), "False CloneUnsupported"),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Retires_as_the_table_says(string name)
    {
        var c = Cases[name];

        var retirement = ForkRetirement.Decide(c.Fork.Volume, c.Fork.Signals, c.Base?.Volume, c.Base?.Signals ?? VolumeSignals.None, Idle, Now);

        Assert.Equal(c.Why, retirement.Why);
        Assert.Equal(c.Recheck, retirement.Recheck);
        Assert.Equal(c.Seeded, retirement.Seeded is { } s ? $"{s.Status} {s.Reason}" : null);
    }
}
