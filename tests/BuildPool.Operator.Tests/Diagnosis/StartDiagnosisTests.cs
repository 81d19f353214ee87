using BuildPool.Operator.Diagnosis;
using k8s.Models;

namespace BuildPool.Operator.Tests.Diagnosis;

/// <summary>
/// <see cref="StartDiagnosis"/> as a table: what Kubernetes reports about a Deployment that does
/// not start, and the reason and words a person reads on the CacheVolume or pool.
/// </summary>
public sealed class StartDiagnosisTests
{
    private static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    private sealed record Case(Workload Workload, V1Deployment Deployment, StartObservation Observed, string? Reason, params string[] Says);

    private static V1Deployment Deployment(int replicas = 1, params V1DeploymentCondition[] conditions) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci-0-builder", NamespaceProperty = "default" },
        Spec = new V1DeploymentSpec { Replicas = replicas, ProgressDeadlineSeconds = 600 },
        Status = new V1DeploymentStatus { Replicas = replicas, ReadyReplicas = 0, Conditions = conditions },
    };

    private static V1Pod Pod(V1PodStatus status, string? memoryLimit = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci-0-builder-1", CreationTimestamp = Now },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "buildkitd",
                    Image = "moby/buildkit:v0.18.0-rootless",
                    Resources = memoryLimit is null ? null : new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(memoryLimit) } },
                },
            ],
        },
        Status = status,
    };

    private static V1PodStatus Waiting(string reason, string message, V1ContainerStateTerminated? last = null, int restarts = 0) => new()
    {
        Phase = "Pending",
        ContainerStatuses =
        [
            new V1ContainerStatus
            {
                Name = "buildkitd",
                Image = "moby/buildkit:v0.18.0-rootless",
                ImageID = string.Empty,
                Ready = false,
                RestartCount = restarts,
                State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } },
                LastState = last is null ? null : new V1ContainerState { Terminated = last },
            },
        ],
    };

    private static StartObservation Pods(params V1Pod[] pods) => new() { Pods = pods };

    private static V1PersistentVolumeClaim PendingClaim(string? storageClass) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci-0-state" },
        Spec = new V1PersistentVolumeClaimSpec { StorageClassName = storageClass },
        Status = new V1PersistentVolumeClaimStatus { Phase = "Pending" },
    };

    private static Corev1Event ClaimEvent(string type, string reason, string message, int minutesAgo) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"ev-{reason}" },
        InvolvedObject = new V1ObjectReference { Kind = "PersistentVolumeClaim", Name = "ci-0-state" },
        Type = type,
        Reason = reason,
        Message = message,
        LastTimestamp = Now.AddMinutes(-minutesAgo),
    };

    private const string PsaRefusal = "pods \"ci-0-builder-1\" is forbidden: violates PodSecurity \"baseline:latest\": seccompProfile (container \"buildkitd\" must not set securityContext.seccompProfile.type to \"Unconfined\")";

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["A_builder_whose_image_cannot_be_pulled_names_the_image_and_the_pool_field"] = new(
            Workload.Builder, Deployment(), Pods(Pod(Waiting("ImagePullBackOff", "Back-off pulling image \"moby/buildkit:v0.18.0-rootless\""))),
            "ImagePullBackOff", "cannot pull image \"moby/buildkit:v0.18.0-rootless\"", "spec.builder.image"),
        ["A_first_failed_pull_gives_the_same_reason_as_the_back_off_so_the_condition_does_not_flap"] = new(
            Workload.Builder, Deployment(), Pods(Pod(Waiting("ErrImagePull", "rpc error: code = NotFound desc = not found"))),
            "ImagePullBackOff", "not found"),
        ["A_gateway_whose_image_cannot_be_pulled_points_to_the_operators_gateway_image_flag"] = new(
            Workload.Gateway, Deployment(), Pods(Pod(Waiting("ImagePullBackOff", "Back-off"))),
            "ImagePullBackOff", "--gateway-image"),
        ["A_crashing_builder_quotes_its_last_exit_and_termination_message"] = new(
            Workload.Builder, Deployment(), Pods(Pod(Waiting("CrashLoopBackOff", "back-off 40s", new V1ContainerStateTerminated { ExitCode = 1, Reason = "Error", Message = "buildkitd: invalid config: unknown key gc" }, restarts: 4))),
            "CrashLoopBackOff", "4 restarts", "exited with code 1 (Error)", "buildkitd: invalid config: unknown key gc", "kubectl logs --previous ci-0-builder-1"),
        ["A_builder_killed_for_memory_names_its_limit_and_the_field_to_raise"] = new(
            Workload.Builder, Deployment(), Pods(Pod(Waiting("CrashLoopBackOff", "back-off", new V1ContainerStateTerminated { ExitCode = 137, Reason = "OOMKilled" }, restarts: 2), memoryLimit: "512Mi")),
            "OOMKilled", "(limit 512Mi)", "spec.builder.resources.limits.memory"),
        ["An_unschedulable_builder_quotes_the_scheduler_and_names_the_placement_fields"] = new(
            Workload.Builder, Deployment(), Pods(Pod(new V1PodStatus { Phase = "Pending", Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "0/3 nodes are available: 3 Insufficient memory." }] })),
            "Unschedulable", "0/3 nodes are available: 3 Insufficient memory.", "spec.builder.nodeSelector"),
        ["A_builder_refused_by_pod_security_says_the_namespace_must_enforce_privileged"] = new(
            Workload.Builder, Deployment(1, new V1DeploymentCondition { Type = "ReplicaFailure", Status = "True", Reason = "FailedCreate", Message = PsaRefusal }), StartObservation.None,
            "PodSecurityRejected", "violates PodSecurity \"baseline:latest\"", "pod-security.kubernetes.io/enforce", "privileged"),
        ["A_pod_refused_for_another_reason_quotes_the_api_and_points_to_quotas"] = new(
            Workload.Builder, Deployment(1, new V1DeploymentCondition { Type = "ReplicaFailure", Status = "True", Reason = "FailedCreate", Message = "pods \"x\" is forbidden: exceeded quota: compute" }), StartObservation.None,
            "PodCreationFailed", "exceeded quota: compute", "ResourceQuota"),
        ["A_pending_claim_with_a_provisioning_warning_is_the_cause_even_though_the_pod_is_unschedulable"] = new(
            Workload.Builder, Deployment(),
            new StartObservation
            {
                Claim = PendingClaim("fast"),
                ClaimEvents = [ClaimEvent("Warning", "ProvisioningFailed", "storageclass.storage.k8s.io \"fast\" not found", 1), ClaimEvent("Normal", "ExternalProvisioning", "waiting for a volume to be created", 0)],
                Pods = [Pod(new V1PodStatus { Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "pod has unbound immediate PersistentVolumeClaims" }] })],
            },
            "ClaimNotBound", "ci-0-state is not bound (StorageClass \"fast\")", "ProvisioningFailed: storageclass.storage.k8s.io \"fast\" not found", "storageClassName"),
        ["A_claim_waiting_for_its_first_consumer_is_no_failure"] = new(
            Workload.Builder, Deployment(),
            new StartObservation { Claim = PendingClaim(null), ClaimEvents = [ClaimEvent("Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding", 0)] },
            null),
        ["A_deployment_past_its_progress_deadline_without_another_cause_says_so"] = new(
            Workload.Builder, Deployment(1, new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded", Message = "ReplicaSet \"ci-0-builder-1\" has timed out progressing." }), StartObservation.None,
            "ProgressDeadlineExceeded", "has timed out progressing", "600 s"),
        ["A_pod_that_is_only_starting_is_no_failure"] = new(
            Workload.Builder, Deployment(), Pods(Pod(Waiting("ContainerCreating", string.Empty))),
            null),
        ["A_stopped_builder_is_never_diagnosed"] = new(
            Workload.Builder, Deployment(0, new V1DeploymentCondition { Type = "ReplicaFailure", Status = "True", Message = PsaRefusal }), StartObservation.None,
            null),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Diagnosis_names_the_cause_and_what_to_change(string name)
    {
        var c = Cases[name];

        var failure = StartDiagnosis.Diagnose(c.Workload, c.Deployment, c.Observed);

        Assert.Equal(c.Reason, failure?.Reason);
        foreach (var words in c.Says)
        {
            Assert.Contains(words, failure!.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_long_termination_message_is_shortened_so_the_condition_stays_readable()
    {
        var last = new V1ContainerStateTerminated { ExitCode = 2, Message = new string('x', 5000) };

        var failure = StartDiagnosis.Diagnose(Workload.Builder, Deployment(), Pods(Pod(Waiting("CrashLoopBackOff", "back-off", last))));

        Assert.InRange(failure!.Message.Length, 400, 700);
        Assert.Contains("…", failure.Message, StringComparison.Ordinal);
    }
}
