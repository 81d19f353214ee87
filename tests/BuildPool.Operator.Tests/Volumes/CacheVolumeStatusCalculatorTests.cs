using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Forks;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Snapshots;
using BuildPool.Operator.Status;
using BuildPool.Operator.Tests.Rendering;
using BuildPool.Operator.Volumes;
using k8s;
using static BuildPool.Operator.Tests.Volumes.VolumeWorld;

namespace BuildPool.Operator.Tests.Volumes;

/// <summary>
/// <see cref="CacheVolumeStatusCalculator"/> as a table: what the reconcile saw and where it left
/// the volume in, the status in Golden/status/cachevolume/&lt;case&gt;.yaml.
/// </summary>
public sealed class CacheVolumeStatusCalculatorTests
{
    private const string Folder = "status/cachevolume";
    private static readonly DateTime Earlier = Now - TimeSpan.FromHours(3);

    private sealed record Case(VolumeWorld World, CacheVolumeOutcome Outcome);

    private static CacheVolumeOutcome Ready(long used = 4 * Gi, int active = 2) =>
        new(CacheVolumePhase.Ready, Outcome.Ready("BuilderReady", "buildkitd v0.17.3 ready with 1 worker(s)"), Now)
        {
            ActiveBuilds = active,
            UsedBytes = used,
            Space = ConditionChange.Set(CacheVolumeReconciler.VolumeFullCondition, false, "HasSpace", "usage is within the volume's limits"),
        };

    private static BuilderPool PoolSharing(CacheSharing sharing)
    {
        var pool = NewPool(TlsMode.Disabled);
        pool.Spec.Cache.Sharing = sharing;
        return pool;
    }

    private static CacheVolume WasReady(Action<CacheVolume>? change = null)
    {
        var volume = NewVolume("ci-0", CacheVolumePhase.Ready, active: 1);
        volume.Status.UsedBytes = 3 * Gi;
        volume.Status.LastGC = Earlier;
        volume.Status.LastUsed = Earlier;
        volume.Status.CacheHitRatio = 0.75;
        volume.Status.LastSnapshot = "ci-0-20300101";
        volume.Status.LastSnapshotTime = Earlier;
        volume.Status.Conditions =
        [
            Condition(Conditions.Ready, true, "BuilderReady", Earlier),
            Condition(Conditions.Reconciling, false, "BuilderReady", Earlier),
            Condition(Conditions.Stalled, false, "BuilderReady", Earlier),
            Condition(CacheVolumeReconciler.DrainingCondition, false, "NotDraining", Earlier),
            Condition(SnapshotScheduler.Condition, true, "Scheduled", Earlier),
        ];
        change?.Invoke(volume);
        return volume;
    }

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["A_new_volume_whose_builder_is_ready_shows_its_endpoint_builds_usage_and_space"] = new(
            new VolumeWorld { Deployment = new Builder(1, 1, 1) },
            Ready()),
        ["A_ready_volume_keeps_its_transition_times_hit_ratio_and_last_snapshot"] = new(
            new VolumeWorld { Volume = WasReady(), Deployment = new Builder(1, 1, 1) },
            Ready() with { LastSnapshot = "ci-0-20300101", LastSnapshotTime = Earlier }),
        ["A_gc_pass_in_this_reconcile_shows_as_lastGC_now"] = new(
            new VolumeWorld { Volume = WasReady(), Deployment = new Builder(1, 1, 1) },
            Ready(used: 2 * Gi) with { GcRan = true }),
        ["A_gc_pass_recorded_on_the_volume_shows_as_lastGC_after_the_status_write_that_missed_it"] = new(
            new VolumeWorld
            {
                Volume = WasReady(v => v.Metadata.Annotations = new Dictionary<string, string> { [WellKnown.LastGcAnnotation] = "2030-01-02T02:59:30.2500000Z" }),
                Deployment = new Builder(1, 1, 1),
            },
            Ready()),
        ["A_volume_that_cannot_grow_says_why_it_is_full"] = new(
            new VolumeWorld { Volume = WasReady(), Deployment = new Builder(1, 1, 1) },
            Ready(used: 10 * Gi) with
            {
                Space = ConditionChange.Set(CacheVolumeReconciler.VolumeFullCondition, true, "CannotGrow", "usage 10Gi of 10Gi after pruning, and spec.cache.autoGrow is not set"),
            }),
        ["A_draining_builder_says_no_new_builds_are_routed_here"] = new(
            new VolumeWorld { Volume = WasReady(), Deployment = new Builder(1, 1, 1) },
            new CacheVolumeOutcome(CacheVolumePhase.Draining, Outcome.Progressing("Draining", "stopping for idle: waiting for 1 running builds (deadline 2030-01-02T04:04:05.0000000Z)"), Now)
            {
                ActiveBuilds = 1,
                UsedBytes = 3 * Gi,
                Draining = true,
            }),
        ["A_builder_rolling_to_tls_is_still_dialled_the_way_its_deployment_serves"] = new(
            new VolumeWorld { Pool = NewPool(TlsMode.Managed), Volume = WasReady(), Deployment = new Builder(1, 1, 1, Tls: false) },
            Ready()),
        ["A_tls_pool_volume_without_a_deployment_yet_advertises_tls"] = new(
            new VolumeWorld { Pool = NewPool(TlsMode.Managed) },
            new CacheVolumeOutcome(CacheVolumePhase.Starting, Outcome.Progressing("BuilderStarting", "waiting for the builder pod to become ready"), Now)),
        ["The_gateways_last_used_heartbeat_shows_in_whole_seconds_when_it_is_newer"] = new(
            new VolumeWorld
            {
                Volume = WasReady(),
                Signals = new VolumeSignals(null, new DateTime(2030, 1, 2, 3, 0, 0, 750, DateTimeKind.Utc), 0, null, new Dictionary<string, DateTime>()),
                Deployment = new Builder(1, 1, 1),
            },
            Ready()),
        ["A_volume_that_sets_no_sharing_shows_its_pools"] = new(
            new VolumeWorld { Pool = PoolSharing(CacheSharing.Locked), Volume = WasReady(), Deployment = new Builder(1, 1, 1) },
            Ready()),
        ["A_volume_that_sets_its_own_sharing_shows_it_over_its_pools"] = new(
            new VolumeWorld { Pool = PoolSharing(CacheSharing.Locked), Volume = WasReady(v => v.Spec.Sharing = CacheSharing.Private), Deployment = new Builder(1, 1, 1) },
            Ready()),
        ["A_volume_whose_pool_is_gone_is_stalled_and_takes_its_capacity_from_its_own_spec"] = new(
            new VolumeWorld { Pool = null, Volume = WasReady(v => v.Spec.Size = "20Gi") },
            new CacheVolumeOutcome(CacheVolumePhase.Pending, Outcome.Stalled("PoolNotFound", "spec.pool: BuilderPool \"ci\" not found in namespace builds"), Now)),
        ["Fork_and_snapshot_steps_set_and_remove_their_conditions_before_the_outcome"] = new(
            new VolumeWorld { Volume = WasReady(), Deployment = new Builder(1, 1, 1) },
            Ready() with
            {
                Conditions =
                [
                    ConditionChange.Set(ForkManager.SeededCondition, true, "ClonedFromBase", "the claim is a CSI clone of CacheVolume ci-0's claim"),
                    ConditionChange.Remove(SnapshotScheduler.Condition),
                ],
                Forks = 2,
            }),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Status_matches_the_golden_file(string name)
    {
        var c = Cases[name];
        var status = CacheVolumeStatusCalculator.Compute(c.World.Observe(), c.Outcome);
        GoldenFiles.AssertMatches(Folder, name + ".yaml", GoldenYaml.Of(("status", status)));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_same_inputs_give_the_same_status_and_leave_the_volume_untouched(string name)
    {
        var c = Cases[name];
        var observed = c.World.Observe();
        var before = KubernetesJson.Serialize(observed.Volume);

        var first = CacheVolumeStatusCalculator.Compute(observed, c.Outcome);
        var second = CacheVolumeStatusCalculator.Compute(observed, c.Outcome);

        Assert.Equal(KubernetesJson.Serialize(first), KubernetesJson.Serialize(second));
        Assert.Equal(before, KubernetesJson.Serialize(observed.Volume));
    }

    [Fact]
    public void Every_golden_file_belongs_to_a_case()
    {
        GoldenFiles.AssertEveryFileHasACase(Folder, ".yaml", Cases.Keys);
    }
}
