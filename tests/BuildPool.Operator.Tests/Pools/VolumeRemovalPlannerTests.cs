using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Tests.Signals;
using k8s.Models;

namespace BuildPool.Operator.Tests.Pools;

/// <summary><see cref="VolumeRemovalPlanner"/> as a table: the pool, its volumes, and which of them go.</summary>
public sealed class VolumeRemovalPlannerTests
{
    private static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    /// <param name="ScaleIn">Names of the volumes scaled in, in order.</param>
    /// <param name="Evict">Name of the volume evicted, or null.</param>
    private sealed record Case(Pool Pool, IReadOnlyList<CacheVolume> Owned, string[] ScaleIn, string? Evict);

    /// <summary>A pool and the demands of its gateway's signal Lease.</summary>
    private sealed record Pool(BuilderPool Spec, IReadOnlyList<GatewaySignal> Demands);

    private static Pool Hashed(int volumes) => new(
        new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default", Uid = "pool-uid" },
            Spec = new BuilderPoolSpec { Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = volumes } },
        },
        []);

    /// <summary>A Dedicated pool at <paramref name="maxVolumes"/> and the keys asking for a volume (each of its own tenant when <paramref name="tenant"/> is given).</summary>
    private static Pool Dedicated(int maxVolumes, params string[] waiting) => TenantDedicated(maxVolumes, null, GatewaySignals.NoTenant, waiting);

    private static Pool TenantDedicated(int maxVolumes, int? perTenant, string tenant, params string[] waiting) => new(
        new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default", Uid = "pool-uid" },
            Spec = new BuilderPoolSpec { Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, MaxVolumes = maxVolumes, MaxVolumesPerTenant = perTenant } },
        },
        TestSignals.Demands(Now, tenant, waiting));

    private static CacheVolume Volume(string name, CacheVolumePhase phase = CacheVolumePhase.Idle, int active = 0, int? usedHoursAgo = null, int createdHoursAgo = 100, bool deleting = false, string? key = null, string? tenant = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "default",
            CreationTimestamp = Now.AddHours(-createdHoursAgo),
            DeletionTimestamp = deleting ? Now : null,
            Annotations = tenant is null ? null : new Dictionary<string, string> { [DedicatedDemandPlanner.TenantAnnotation] = tenant },
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
        ["A_tenant_whose_key_waits_at_a_full_pool_never_evicts_another_tenants_volume"] = new(
            TenantDedicated(2, null, "team-a", "random-key"), [Volume("ci-b1", usedHoursAgo: 50, tenant: "team-b"), Volume("ci-b2", usedHoursAgo: 40, tenant: "team-b")], ScaleIn: [], Evict: null),
        ["A_tenant_whose_key_waits_at_a_full_pool_evicts_its_own_least_recently_used_idle_volume"] = new(
            TenantDedicated(3, null, "team-a", "new"), [Volume("ci-b1", usedHoursAgo: 50, tenant: "team-b"), Volume("ci-a1", usedHoursAgo: 2, tenant: "team-a"), Volume("ci-a2", usedHoursAgo: 1, tenant: "team-a")], ScaleIn: [], Evict: "ci-a1"),
        ["A_tenant_at_its_quota_evicts_its_own_volume_even_when_the_pool_has_room"] = new(
            TenantDedicated(10, 1, "team-a", "new"), [Volume("ci-b1", usedHoursAgo: 50, tenant: "team-b"), Volume("ci-a1", usedHoursAgo: 2, tenant: "team-a")], ScaleIn: [], Evict: "ci-a1"),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Removes_what_the_table_says(string name)
    {
        var c = Cases[name];
        var dedicated = DedicatedDemandPlanner.Plan(c.Pool.Spec, c.Owned, c.Pool.Demands, TimeSpan.FromMinutes(5), Now);
        var plan = BuilderPoolPlanner.Plan(c.Pool.Spec, new OperatorOptions(), c.Owned, dedicated: dedicated);

        var removals = VolumeRemovalPlanner.Plan(c.Pool.Spec, plan, c.Owned);

        Assert.Equal(c.ScaleIn, removals.ScaleIn.Select(v => v.Metadata.Name));
        Assert.Equal(c.Evict, removals.Evict?.Metadata.Name);
    }
}
