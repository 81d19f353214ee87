using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Pools;
using k8s.Models;

namespace BuildPool.Operator.Tests.Pools;

/// <summary><see cref="VolumeRemovalPlanner"/> as a table: the pool, its volumes, and which of them go.</summary>
public sealed class VolumeRemovalPlannerTests
{
    private static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    /// <param name="ScaleIn">Names of the volumes scaled in, in order.</param>
    /// <param name="Evict">Name of the volume evicted, or null.</param>
    private sealed record Case(BuilderPool Pool, IReadOnlyList<CacheVolume> Owned, string[] ScaleIn, string? Evict);

    private static BuilderPool Hashed(int volumes) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default", Uid = "pool-uid" },
        Spec = new BuilderPoolSpec { Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = volumes } },
    };

    /// <summary>A Dedicated pool at <paramref name="maxVolumes"/> and the keys asking for a volume.</summary>
    private static BuilderPool Dedicated(int maxVolumes, params string[] waiting) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "ci",
            NamespaceProperty = "default",
            Uid = "pool-uid",
            Annotations = waiting.ToDictionary(k => DedicatedKeys.DemandPrefix + k, k => k),
        },
        Spec = new BuilderPoolSpec { Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, MaxVolumes = maxVolumes } },
    };

    private static CacheVolume Volume(string name, CacheVolumePhase phase = CacheVolumePhase.Idle, int active = 0, int? usedHoursAgo = null, int createdHoursAgo = 100, bool deleting = false, string? key = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "default",
            CreationTimestamp = Now.AddHours(-createdHoursAgo),
            DeletionTimestamp = deleting ? Now : null,
        },
        Spec = new CacheVolumeSpec { Pool = "ci", Keys = [key ?? name] },
        Status = new CacheVolumeStatus { Phase = phase, ActiveBuilds = active, LastUsed = usedHoursAgo is { } h ? Now.AddHours(-h) : null },
    };

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["A_hashed_pool_scaled_from_three_volumes_to_two_removes_the_third"] = new(
            Hashed(2), [Volume("ci-0"), Volume("ci-1"), Volume("ci-2")], ScaleIn: ["ci-2"], Evict: null),
        ["A_hashed_volume_already_being_deleted_is_not_deleted_again"] = new(
            Hashed(1), [Volume("ci-0"), Volume("ci-1", deleting: true), Volume("ci-2")], ScaleIn: ["ci-2"], Evict: null),
        ["A_hashed_pool_whose_volumes_all_are_in_its_plan_removes_nothing"] = new(
            Hashed(2), [Volume("ci-0"), Volume("ci-1")], ScaleIn: [], Evict: null),
        ["A_dedicated_pool_never_scales_in_a_volume_its_plan_does_not_list"] = new(
            Dedicated(4), [Volume("ci-stray", key: "gone")], ScaleIn: [], Evict: null),
        ["A_dedicated_pool_at_maxVolumes_with_a_waiting_key_evicts_its_least_recently_used_idle_volume"] = new(
            Dedicated(2, "new"), [Volume("ci-a", usedHoursAgo: 1), Volume("ci-b", usedHoursAgo: 5)], ScaleIn: [], Evict: "ci-b"),
        ["A_volume_never_used_counts_as_used_when_it_was_created"] = new(
            Dedicated(2, "new"), [Volume("ci-a", usedHoursAgo: 5), Volume("ci-b", createdHoursAgo: 9)], ScaleIn: [], Evict: "ci-b"),
        ["Volumes_used_at_the_same_time_are_evicted_in_name_order"] = new(
            Dedicated(2, "new"), [Volume("ci-b", usedHoursAgo: 3), Volume("ci-a", usedHoursAgo: 3)], ScaleIn: [], Evict: "ci-a"),
        ["A_running_builder_or_a_volume_with_builds_is_never_evicted"] = new(
            Dedicated(3, "new"), [Volume("ci-a", CacheVolumePhase.Ready, usedHoursAgo: 50), Volume("ci-b", active: 1, usedHoursAgo: 40), Volume("ci-c", usedHoursAgo: 1)], ScaleIn: [], Evict: "ci-c"),
        ["Nothing_is_evicted_while_an_earlier_eviction_still_drains"] = new(
            Dedicated(2, "new"), [Volume("ci-a", CacheVolumePhase.Draining, deleting: true), Volume("ci-b", usedHoursAgo: 5)], ScaleIn: [], Evict: null),
        ["Nothing_is_evicted_when_no_key_waits"] = new(
            Dedicated(2), [Volume("ci-a", usedHoursAgo: 1), Volume("ci-b", usedHoursAgo: 5)], ScaleIn: [], Evict: null),
        ["Nothing_is_evicted_when_every_volume_is_busy"] = new(
            Dedicated(1, "new"), [Volume("ci-a", CacheVolumePhase.Ready)], ScaleIn: [], Evict: null),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Removes_what_the_table_says(string name)
    {
        var c = Cases[name];
        var plan = BuilderPoolPlanner.Plan(c.Pool, new OperatorOptions(), c.Owned);

        var removals = VolumeRemovalPlanner.Plan(c.Pool, plan, c.Owned);

        Assert.Equal(c.ScaleIn, removals.ScaleIn.Select(v => v.Metadata.Name));
        Assert.Equal(c.Evict, removals.Evict?.Metadata.Name);
    }
}
