using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Diagnosis;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Status;
using BuildPool.Operator.Tests.Rendering;
using BuildPool.Operator.Tests.Signals;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Pools;

/// <summary>
/// <see cref="BuilderPoolStatusCalculator"/> as a table: each case's status and decided outcome
/// are in Golden/status/builderpool/&lt;case&gt;.yaml.
/// </summary>
public sealed class BuilderPoolStatusCalculatorTests
{
    private const string Folder = "status/builderpool";
    private static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private static readonly DateTime Earlier = Now.AddHours(-2);

    private sealed record Case(BuilderPool Pool, IReadOnlyList<CacheVolume> Volumes, V1Deployment? Gateway, Outcome? Outcome = null, bool Planned = true, string[]? Waiting = null, StartFailure? GatewayFailure = null);

    private static BuilderPool Pool(int volumes = 2, int warm = 2, TlsMode tls = TlsMode.Managed, BuilderPoolStatus? status = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default", Generation = 3, Uid = "pool-uid" },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Volumes = volumes },
            Scaling = new ScalingSpec { WarmBuilders = warm },
            Endpoint = new EndpointSpec { Tls = new EndpointTlsSpec { Mode = tls } },
        },
        Status = status ?? new BuilderPoolStatus(),
    };

    private static CacheVolume Volume(string name, CacheVolumePhase phase, int active = 0, bool deleting = false, string? key = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", DeletionTimestamp = deleting ? Earlier : null },
        Spec = new CacheVolumeSpec { Pool = "ci", Keys = key is null ? null : [key] },
        Status = new CacheVolumeStatus { Phase = phase, ActiveBuilds = active },
    };

    private static CacheVolume Failed(string name, string reason, string message)
    {
        var volume = Volume(name, CacheVolumePhase.Failed);
        volume.Status.Conditions = [new V1Condition { Type = Conditions.Stalled, Status = "True", Reason = reason, Message = message, LastTransitionTime = Earlier }];
        return volume;
    }

    private static V1Deployment Gateway(int available) => new()
    {
        Metadata = new V1ObjectMeta { Name = ResourceNames.Gateway("ci"), NamespaceProperty = "default" },
        Status = new V1DeploymentStatus { AvailableReplicas = available },
    };

    private static BuilderPoolStatus WasReady() => new()
    {
        Endpoint = "tcp://old.default.svc:1234",
        BuildxCommand = "docker buildx create --name ci --driver remote tcp://old.default.svc:1234 --use",
        QueuedBuilds = 4,
        Conditions =
        [
            new V1Condition { Type = Conditions.Ready, Status = "True", Reason = "Ready", Message = "2 builders ready, 2 cache volumes", LastTransitionTime = Earlier, ObservedGeneration = 2 },
            new V1Condition { Type = Conditions.Reconciling, Status = "False", Reason = "Ready", Message = "2 builders ready, 2 cache volumes", LastTransitionTime = Earlier, ObservedGeneration = 2 },
            new V1Condition { Type = Conditions.Stalled, Status = "False", Reason = "Ready", Message = "2 builders ready, 2 cache volumes", LastTransitionTime = Earlier, ObservedGeneration = 2 },
            new V1Condition { Type = Conditions.Warning, Status = "True", Reason = "UnauthenticatedEndpoint", Message = "spec.endpoint.tls.mode is Disabled", LastTransitionTime = Earlier, ObservedGeneration = 2 },
        ],
    };

    private static BuilderPool DedicatedAtMaxVolumes()
    {
        var pool = Pool(warm: 0);
        pool.Spec.Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, MaxVolumes = 1 };
        return pool;
    }

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["A_new_pool_whose_warm_builders_are_starting_is_reconciling_and_counts_them"] = new(
            Pool(),
            [Volume("ci-0", CacheVolumePhase.Starting), Volume("ci-1", CacheVolumePhase.Pending)],
            Gateway: null),
        ["A_pool_with_its_warm_builders_ready_and_a_gateway_available_is_ready"] = new(
            Pool(),
            [Volume("ci-0", CacheVolumePhase.Ready, active: 2), Volume("ci-1", CacheVolumePhase.Ready, active: 1)],
            Gateway(available: 2)),
        ["Ready_builders_without_an_available_gateway_leave_the_pool_waiting_for_the_gateway"] = new(
            Pool(),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Ready)],
            Gateway(available: 0)),
        ["A_failing_volume_is_named_and_keeps_the_pool_from_being_ready"] = new(
            Pool(),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Failed)],
            Gateway(available: 2)),
        ["Failing_volumes_are_counted_and_summarised_by_cause_while_a_ready_builder_keeps_the_pool_reconciling"] = new(
            Pool(volumes: 4, warm: 4),
            [
                Volume("ci-0", CacheVolumePhase.Ready),
                Failed("ci-1", "ImagePullBackOff", "cannot pull image \"buildkit:nope\""),
                Failed("ci-2", "ImagePullBackOff", "cannot pull image \"buildkit:nope\""),
                Failed("ci-3", "ClaimNotBound", "PersistentVolumeClaim ci-3-state is not bound"),
            ],
            Gateway(available: 2)),
        ["A_pool_none_of_whose_builders_can_start_is_stalled"] = new(
            Pool(),
            [Failed("ci-0", "PodSecurityRejected", "violates PodSecurity"), Failed("ci-1", "PodSecurityRejected", "violates PodSecurity")],
            Gateway(available: 2)),
        ["A_gateway_that_cannot_start_stalls_the_pool_before_its_builders_are_considered"] = new(
            Pool(),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Starting)],
            Gateway(available: 0),
            GatewayFailure: new StartFailure("ImagePullBackOff", "cannot pull image \"buildpool:nope\" of container gateway; check the operator's --gateway-image")),
        ["Idle_volumes_count_as_ready_volumes_but_not_as_builders"] = new(
            Pool(volumes: 3, warm: 1),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Idle), Volume("ci-2", CacheVolumePhase.Draining, active: 1)],
            Gateway(available: 1)),
        ["A_volume_being_deleted_is_counted_nowhere"] = new(
            Pool(volumes: 1, warm: 1),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Draining, active: 3, deleting: true)],
            Gateway(available: 2)),
        ["A_stalled_outcome_from_the_reconciler_wins_and_keeps_the_last_endpoint_without_a_plan"] = new(
            Pool(status: WasReady()),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Ready)],
            Gateway(available: 2),
            Outcome.Stalled("MissingReference", "spec.cacheTargets[0].name: RegistryCacheTarget \"cache\" not found in namespace default"),
            Planned: false),
        ["A_ready_pool_that_loses_a_builder_moves_its_ready_condition_now_and_keeps_the_queued_count"] = new(
            Pool(status: WasReady()),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Starting)],
            Gateway(available: 2)),
        ["A_pool_with_tls_disabled_carries_a_warning_that_anyone_who_reaches_it_can_build"] = new(
            Pool(tls: TlsMode.Disabled),
            [Volume("ci-0", CacheVolumePhase.Ready), Volume("ci-1", CacheVolumePhase.Ready)],
            Gateway(available: 2)),
        ["Keys_waiting_at_maxVolumes_are_counted_in_the_message"] = new(
            DedicatedAtMaxVolumes(),
            [Volume(DedicatedKeys.VolumeName("ci", "repo-a"), CacheVolumePhase.Idle, key: "repo-a")],
            Gateway(available: 2),
            Waiting: ["repo-a", "repo-b", "repo-c"]),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Status_matches_the_golden_file(string name)
    {
        var (status, decided) = Compute(Cases[name]);
        GoldenFiles.AssertMatches(Folder, name + ".yaml", GoldenYaml.Of(("decided", decided), ("status", status)));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_same_inputs_give_the_same_status_and_leave_the_pool_untouched(string name)
    {
        var c = Cases[name];
        var before = KubernetesJson.Serialize(c.Pool);

        var first = Compute(c);
        var second = Compute(c);

        Assert.Equal(KubernetesJson.Serialize(first), KubernetesJson.Serialize(second));
        Assert.Equal(before, KubernetesJson.Serialize(c.Pool));
    }

    [Fact]
    public void Every_golden_file_belongs_to_a_case()
    {
        GoldenFiles.AssertEveryFileHasACase(Folder, ".yaml", Cases.Keys);
    }

    private static (BuilderPoolStatus Status, Outcome Decided) Compute(Case c)
    {
        var demands = TestSignals.Demands(Now, null, c.Waiting ?? []);
        var dedicated = c.Pool.Spec.Assignment.Mode == AssignmentMode.Dedicated ? DedicatedDemandPlanner.Plan(c.Pool, c.Volumes, demands, TimeSpan.FromMinutes(5), Now) : null;
        var plan = c.Planned ? BuilderPoolPlanner.Plan(c.Pool, new OperatorOptions(), c.Volumes, dedicated: dedicated) : null;
        var status = BuilderPoolStatusCalculator.Compute(c.Pool, plan, c.Volumes, c.Gateway, c.Outcome, Now, out var decided, gatewayFailure: c.GatewayFailure);
        return (status, decided);
    }
}
