using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Forks;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Status;
using BuildPool.Operator.Tests.Rendering;
using BuildPool.Operator.Tests.Signals;
using BuildPool.Operator.Volumes;
using k8s;
using static BuildPool.Operator.Tests.Volumes.VolumeWorld;

namespace BuildPool.Operator.Tests.Volumes;

/// <summary>
/// <see cref="CacheVolumePlanner.Plan"/> as a table: what a reconcile sees in, what it does out,
/// in Golden/plans/cachevolume/&lt;case&gt;.yaml.
/// </summary>
public sealed class CacheVolumePlannerTests
{
    private const string Folder = "plans/cachevolume";

    private static readonly Builder Ready = new(SpecReplicas: 1, Replicas: 1, Ready: 1);

    private static CacheVolume Volume(CacheVolumePhase? phase = CacheVolumePhase.Ready, int active = 0, Action<CacheVolume>? change = null)
    {
        var volume = NewVolume("ci-0", phase, active);
        change?.Invoke(volume);
        return volume;
    }

    private static BuilderPool Pool(Action<BuilderPool>? change = null, TlsMode tls = TlsMode.Disabled, ReclaimPolicy reclaim = ReclaimPolicy.Retain, int warm = 1)
    {
        var pool = NewPool(tls, reclaim, warm);
        change?.Invoke(pool);
        return pool;
    }

    private static void Annotate(CacheVolume volume, string key, string value) =>
        (volume.Metadata.Annotations ??= new Dictionary<string, string>())[key] = value;

    private static VolumeSignals RecentlyUsed(string volume) => TestSignals.For(volume, GatewaySignals.Used(volume, Now - TimeSpan.FromMinutes(5)));

    private static void HoldsTurn(BuilderPool pool, string volume) => (pool.Metadata.Annotations ??= new Dictionary<string, string>())[RolloutTurn.Annotation] = volume;

    private static void Draining(CacheVolume volume, TimeSpan since) =>
        volume.Status.Conditions.Add(Condition(CacheVolumeReconciler.DrainingCondition, true, "Draining", Now - since));

    private static CacheVolume Fork(Action<CacheVolume>? change = null) => Volume(change: v =>
    {
        v.Metadata.Name = "ci-0-f0";
        v.Metadata.Labels = new Dictionary<string, string> { [LifecycleAnnotations.ForkOfLabel] = "ci-0" };
        v.Metadata.OwnerReferences = [new k8s.Models.V1OwnerReference { ApiVersion = GroupVersion.ApiVersion, Kind = CacheVolume.KubeKind, Name = "ci-0", Uid = "ci-0-uid", Controller = true }];
        v.Spec.CloneFrom = "ci-0";
        change?.Invoke(v);
    });

    private static readonly Dictionary<string, VolumeWorld> Cases = new(StringComparer.Ordinal)
    {
        ["A_volume_whose_pool_is_missing_is_stalled_naming_spec_pool"] = new() { Pool = null },
        ["A_tls_pool_without_its_builder_certificate_waits_and_keeps_what_status_said"] = new()
        {
            Pool = Pool(tls: TlsMode.Managed),
            BuilderCertificate = false,
            Volume = Volume(active: 2, change: v => v.Status.UsedBytes = 3 * Gi),
        },
        ["A_claim_with_the_volumes_name_but_not_its_labels_stalls_the_volume_before_any_child_is_written"] = new() { Deployment = Ready, ClaimIsOurs = false },
        ["A_size_that_is_not_a_quantity_is_stalled_naming_the_field"] = new() { Volume = Volume(change: v => v.Spec.Size = "lots") },
        ["A_missing_registry_secret_stalls_a_volume_that_has_no_builder_yet"] = new()
        {
            MissingSecrets = ["spec.builder.registries[0].caSecretRef: Secret \"mirror-ca\" not found in namespace builds"],
        },
        ["A_missing_registry_secret_does_not_stop_a_builder_that_already_runs"] = new()
        {
            MissingSecrets = ["spec.builder.registries[0].caSecretRef: Secret \"mirror-ca\" not found in namespace builds"],
            Deployment = Ready,
            Probe = Answering(),
        },
        ["A_new_warm_volume_writes_its_children_and_waits_for_its_builder_to_start"] = new() { Volume = Volume(phase: null), Claim = null },
        ["A_ready_builder_reports_its_builds_and_usage_and_is_probed_again_at_the_probe_interval"] = new()
        {
            Deployment = Ready,
            Probe = Answering(active: 2, usedBytes: 4 * Gi),
        },
        ["A_ready_builder_the_daemon_does_not_answer_for_is_starting_with_the_daemon_error"] = new()
        {
            Deployment = Ready,
            Probe = BuilderProbe.Unreachable(null, "connection refused"),
        },
        ["Usage_above_the_gc_budget_is_pruned_at_once"] = new()
        {
            Deployment = Ready,
            Probe = Answering(usedBytes: 10 * Gi),
            Volume = Volume(change: v => v.Status.LastGC = Now - TimeSpan.FromMinutes(1)),
        },
        ["Cache_mount_rules_wait_for_the_rule_interval_since_the_gc_pass_status_records_whoever_ran_it"] = new()
        {
            Pool = Pool(p => p.Spec.Cache.CacheMounts = [new CacheMountRule { Id = "npm", KeepDuration = "24h" }]),
            Deployment = Ready,
            Probe = Answering(0, 0, CacheMount("old", "npm", Gi, TimeSpan.FromDays(3))),
            Volume = Volume(change: v => v.Status.LastGC = Now - TimeSpan.FromMinutes(4)),
        },
        ["Cache_mount_rules_wait_for_a_gc_pass_recorded_on_the_volume_that_status_does_not_show_yet"] = new()
        {
            Pool = Pool(p => p.Spec.Cache.CacheMounts = [new CacheMountRule { Id = "npm", KeepDuration = "24h" }]),
            Deployment = Ready,
            Probe = Answering(0, 0, CacheMount("old", "npm", Gi, TimeSpan.FromDays(3))),
            Volume = Volume(change: v =>
            {
                v.Status.LastGC = Now - TimeSpan.FromHours(5);
                Annotate(v, WellKnown.LastGcAnnotation, (Now - TimeSpan.FromMinutes(4)).ToString("O"));
            }),
        },
        ["Cache_mount_rules_run_once_the_last_gc_pass_is_older_than_the_rule_interval"] = new()
        {
            Pool = Pool(p => p.Spec.Cache.CacheMounts = [new CacheMountRule { Id = "npm", KeepDuration = "24h" }]),
            Deployment = Ready,
            Probe = Answering(0, 0, CacheMount("old", "npm", Gi, TimeSpan.FromDays(3)), CacheMount("new", "npm", Gi, TimeSpan.FromHours(1))),
            Volume = Volume(change: v => v.Status.LastGC = Now - TimeSpan.FromMinutes(11)),
        },
        ["An_idle_builder_without_builds_stops_at_once"] = new()
        {
            Pool = Pool(warm: 0),
            Deployment = Ready,
            Probe = Answering(),
        },
        ["An_idle_builder_with_running_builds_drains_before_it_stops"] = new()
        {
            Pool = Pool(warm: 0),
            Deployment = Ready,
            Probe = Answering(active: 1),
        },
        ["A_drain_past_its_deadline_restarts_the_builder_anyway"] = new()
        {
            Pool = Pool(p => HoldsTurn(p, "ci-0")),
            Deployment = Ready with { CurrentConfig = false },
            Probe = Answering(active: 1),
            Volume = Volume(CacheVolumePhase.Draining, active: 1, change: v => Draining(v, TimeSpan.FromHours(2))),
        },
        ["A_drain_whose_daemon_cannot_say_what_runs_stops_the_builder"] = new()
        {
            Pool = Pool(warm: 0),
            Deployment = Ready,
            Probe = BuilderProbe.Unreachable(null, "connection refused"),
        },
        ["A_configuration_change_takes_the_free_rollout_turn_and_drains"] = new()
        {
            Deployment = Ready with { CurrentConfig = false },
            Probe = Answering(active: 1),
        },
        ["A_configuration_change_waits_while_another_volume_holds_the_turn_a_previous_leader_gave_it"] = new()
        {
            Pool = Pool(p => HoldsTurn(p, "ci-1")),
            Others = [NewVolume("ci-1", CacheVolumePhase.Ready)],
            Deployment = Ready with { CurrentConfig = false },
            Probe = Answering(),
        },
        ["A_configuration_change_waits_while_another_builder_of_the_pool_starts"] = new()
        {
            Others = [NewVolume("ci-1", CacheVolumePhase.Starting)],
            Deployment = Ready with { CurrentConfig = false },
            Probe = Answering(),
        },
        ["A_turn_held_by_a_volume_that_is_gone_is_taken"] = new()
        {
            Pool = Pool(p => HoldsTurn(p, "ci-9")),
            Deployment = Ready with { CurrentConfig = false },
            Probe = Answering(),
        },
        ["The_turn_holder_keeps_the_turn_while_its_new_builder_starts"] = new()
        {
            Pool = Pool(p => HoldsTurn(p, "ci-0")),
            Deployment = new Builder(1, 1, 0),
            Probe = BuilderProbe.Unreachable(null, "connection refused"),
        },
        ["The_turn_holder_hands_the_turn_back_once_its_builder_runs_the_new_configuration"] = new()
        {
            Pool = Pool(p => HoldsTurn(p, "ci-0")),
            Deployment = Ready,
            Probe = Answering(),
        },
        ["A_stopped_builder_reports_idle_and_comes_back_when_its_retention_runs_out"] = new()
        {
            Pool = Pool(reclaim: ReclaimPolicy.Delete, warm: 0),
            Deployment = new Builder(0, 0, 0),
            Volume = Volume(CacheVolumePhase.Idle, change: v =>
            {
                v.Metadata.OwnerReferences = null;
                v.Spec.Retention = new VolumeRetention { DeleteAfterIdle = "24h" };
                v.Status.LastUsed = Now - TimeSpan.FromHours(20);
            }),
        },
        ["A_stopped_volume_of_a_delete_pool_past_its_retention_is_deleted"] = new()
        {
            Pool = Pool(reclaim: ReclaimPolicy.Delete, warm: 0),
            Deployment = new Builder(0, 0, 0),
            Volume = Volume(CacheVolumePhase.Idle, change: v =>
            {
                v.Metadata.OwnerReferences = null;
                v.Spec.Retention = new VolumeRetention { DeleteAfterIdle = "24h" };
                v.Status.LastUsed = Now - TimeSpan.FromHours(30);
            }),
        },
        ["A_recently_used_volume_of_a_pool_without_warm_builders_starts_its_builder"] = new()
        {
            Pool = Pool(warm: 0),
            Volume = Volume(CacheVolumePhase.Idle),
            Signals = RecentlyUsed("ci-0"),
            Deployment = new Builder(0, 0, 0),
        },
        ["A_fork_whose_base_is_gone_is_retired"] = new() { Volume = Fork(), ForkBase = null },
        ["A_fork_in_use_stays_seeded_and_is_looked_at_again_when_it_could_be_idle"] = new()
        {
            Volume = Fork(),
            Signals = RecentlyUsed("ci-0-f0"),
            ForkBase = NewVolume("ci-0", CacheVolumePhase.Ready),
            Deployment = Ready,
            Probe = Answering(),
        },
        ["A_base_volume_whose_claim_exists_may_get_forks"] = new() { Deployment = Ready, Probe = Answering(), Claim = "10Gi" },
        ["A_volume_being_deleted_with_running_builds_drains_first"] = new()
        {
            Volume = Volume(active: 1, change: v => v.Metadata.DeletionTimestamp = Now),
            Deployment = Ready,
            Probe = Answering(active: 1),
        },
        ["A_volume_being_deleted_without_a_running_builder_is_finalized"] = new()
        {
            Volume = Volume(CacheVolumePhase.Idle, change: v => v.Metadata.DeletionTimestamp = Now),
            Deployment = new Builder(0, 0, 0),
        },
        ["A_volume_being_deleted_whose_finalizer_is_gone_is_left_alone"] = new()
        {
            Volume = Volume(change: v =>
            {
                v.Metadata.DeletionTimestamp = Now;
                v.Metadata.Finalizers = null;
            }),
        },
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Plan_matches_the_golden_file(string name)
    {
        var plan = CacheVolumePlanner.Plan(Cases[name].Observe(), Now);
        GoldenFiles.AssertMatches(Folder, name + ".yaml", GoldenYaml.Of(("plan", Describe(plan))));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Planning_twice_gives_the_same_plan_and_leaves_what_was_observed_untouched(string name)
    {
        var observed = Cases[name].Observe();
        var before = KubernetesJson.Serialize(new { observed.Volume, observed.Pool, observed.Deployment });

        var first = Describe(CacheVolumePlanner.Plan(observed, Now));
        var second = Describe(CacheVolumePlanner.Plan(observed, Now));

        Assert.Equal(KubernetesJson.Serialize(first), KubernetesJson.Serialize(second));
        Assert.Equal(before, KubernetesJson.Serialize(new { observed.Volume, observed.Pool, observed.Deployment }));
    }

    [Fact]
    public void Every_golden_file_belongs_to_a_case()
    {
        GoldenFiles.AssertEveryFileHasACase(Folder, ".yaml", Cases.Keys);
    }

    [Fact]
    public void A_retained_claim_is_kept_unmarked_once_marked_a_delete_claim_goes_and_another_volumes_claim_is_not_touched()
    {
        var volume = new CacheVolume { Metadata = new k8s.Models.V1ObjectMeta { Name = "ci-0" }, Spec = new CacheVolumeSpec { Pool = "ci" } };
        ClaimFate Fate(string? policy, bool marked, string pool = "ci")
        {
            var labels = Owners.VolumeLabels(pool, "ci-0");
            if (policy is not null)
            {
                labels[BuilderChildrenPlanner.ReclaimPolicyLabel] = policy;
            }

            return CacheVolumePlanner.FateOf(new k8s.Models.V1PersistentVolumeClaim
            {
                Metadata = new k8s.Models.V1ObjectMeta
                {
                    Labels = labels,
                    Annotations = marked ? new Dictionary<string, string> { [WellKnown.RetainedAnnotation] = "2030-01-01T00:00:00Z" } : null,
                },
            }, volume);
        }

        Assert.Equal(ClaimFate.Delete, Fate(nameof(ReclaimPolicy.Delete), marked: false));
        Assert.Equal(ClaimFate.MarkRetained, Fate(nameof(ReclaimPolicy.Retain), marked: false));
        Assert.Equal(ClaimFate.Kept, Fate(nameof(ReclaimPolicy.Retain), marked: true));
        // A claim whose label was lost is a cache nobody asked to delete.
        Assert.Equal(ClaimFate.MarkRetained, Fate(null, marked: false));
        // Another pool's claim of the same name is neither deleted nor marked.
        Assert.Equal(ClaimFate.Kept, Fate(nameof(ReclaimPolicy.Delete), marked: false, pool: "other"));
    }

    private static object Describe(CacheVolumePlan plan) => new
    {
        status = VolumeWorld.Describe(plan.Status),
        next = plan.Next.RequeueAfter > TimeSpan.Zero ? $"after {plan.Next.RequeueAfter}" : "done",
        delete = plan.Delete is { } d ? $"{d.Cause}: {d.Detail}" : null,
        drain = plan.Drain is { } drain ? $"for {drain.Why}: {drain.Active} running, deadline {drain.Deadline:O}, {(drain.Wait ? "waits" : "stops now")}{(drain.ProbeError is { } e ? $" (daemon: {e})" : "")}" : null,
        rolloutTurn = plan.TakeRolloutTurn ? "take" : plan.ReleaseRolloutTurn ? "hand back" : null,
        builderReplicas = plan.Children?.Builder.Spec.Replicas,
        ensureForks = plan.EnsureForks,
        forkRecheck = plan.ForkRecheck?.ToString(),
        prunes = plan.Prunes.Select(p => $"{p.Reason} [{string.Join(", ", p.Request.Filter)}]").ToList(),
        growth = plan.Growth is { } g ? $"capacity {g.CapacityText ?? "unknown"}, autoGrow {(g.Policy is null ? "unset" : "set")}" : null,
        finalize = plan.Finalize,
    };
}
