using k8s.Models;

namespace BuildPool.Operator.Diagnosis;

/// <summary>
/// Pure: why a Deployment that should run has no ready pod, from what Kubernetes reports about it,
/// or null while it is only slow. Causes are looked for from the root down: a claim that cannot
/// bind (its pod would only say it is unschedulable), a pod the API refused to create (Pod
/// Security, quotas), a pod that cannot be scheduled, pull its image or keep running, and last the
/// Deployment's own progress deadline, which names no cause.
/// </summary>
public static class StartDiagnosis
{
    /// <summary>Condition reasons this diagnosis gives besides the kubelet's own.</summary>
    public const string ClaimNotBound = "ClaimNotBound";
    public const string PodSecurityRejected = "PodSecurityRejected";
    public const string PodCreationFailed = "PodCreationFailed";
    public const string Unschedulable = "Unschedulable";
    public const string OomKilled = "OOMKilled";
    public const string CrashLoopBackOff = "CrashLoopBackOff";
    public const string ProgressDeadlineExceeded = "ProgressDeadlineExceeded";

    // A termination message is whatever the container wrote; a condition message stays readable.
    private const int MaxQuoted = 400;

    /// <summary>The kubelet alternates ErrImagePull and ImagePullBackOff while it retries: both are this reason, so the condition does not flap.</summary>
    public const string ImagePullBackOff = "ImagePullBackOff";

    private static readonly HashSet<string> ImageReasons = new(StringComparer.Ordinal) { ImagePullBackOff, "ErrImagePull", "InvalidImageName", "ErrImageNeverPull" };

    private static readonly HashSet<string> ConfigReasons = new(StringComparer.Ordinal) { "CreateContainerConfigError", "CreateContainerError", "RunContainerError" };

    public static StartFailure? Diagnose(Workload workload, V1Deployment? deployment, StartObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        if (deployment is null || (deployment.Spec?.Replicas ?? 1) == 0)
        {
            return null;
        }

        return Claim(observed.Claim, observed.ClaimEvents)
            ?? ReplicaFailure(workload, deployment)
            ?? observed.Pods.OrderByDescending(p => p.Metadata.CreationTimestamp).Select(p => Pod(workload, p)).FirstOrDefault(f => f is not null)
            ?? Deadline(deployment);
    }

    private static StartFailure? Claim(V1PersistentVolumeClaim? claim, IReadOnlyList<Corev1Event> events)
    {
        if (claim?.Status?.Phase != "Pending")
        {
            return null;
        }

        // Only a warning is a cause: "waiting for first consumer" and "waiting for a volume to be
        // created" are Normal events on the way to binding.
        var warning = events.Where(e => e.Type == "Warning").OrderByDescending(e => e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp).FirstOrDefault();
        if (warning is null)
        {
            return null;
        }

        var storageClass = claim.Spec?.StorageClassName is { Length: > 0 } name ? $"StorageClass \"{name}\"" : "the default StorageClass";
        return new StartFailure(ClaimNotBound,
            $"PersistentVolumeClaim {claim.Metadata.Name} is not bound ({storageClass}): {warning.Reason}: {Quote(warning.Message)}; "
            + "check spec.cache.volume.storageClassName of the pool (or spec.storageClassName of the CacheVolume) and that its provisioner runs");
    }

    private static StartFailure? ReplicaFailure(Workload workload, V1Deployment deployment)
    {
        var failure = Condition(deployment, "ReplicaFailure");
        if (failure?.Status != "True")
        {
            return null;
        }

        var message = failure.Message ?? failure.Reason ?? "the API refused to create a pod";
        if (message.Contains("violates PodSecurity", StringComparison.Ordinal))
        {
            var fix = workload == Workload.Builder
                ? "every builder security profile needs the namespace's pod-security.kubernetes.io/enforce label to be privileged (baseline refuses Unconfined seccomp and AppArmor and privileged containers)"
                : "the gateway meets the restricted profile; check the namespace's pod-security.kubernetes.io labels and any admission policy";
            return new StartFailure(PodSecurityRejected, $"{Quote(message)}; {fix}");
        }

        return new StartFailure(PodCreationFailed, $"{Quote(message)}; check the namespace's ResourceQuota, LimitRange and admission policies");
    }

    private static StartFailure? Pod(Workload workload, V1Pod pod)
    {
        var scheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (scheduled is { Status: "False", Reason: "Unschedulable" })
        {
            var fix = workload == Workload.Builder
                ? "check spec.builder.nodeSelector, tolerations, affinity and resources.requests of the pool against the nodes"
                : "check that nodes have room for the gateway's requests";
            return new StartFailure(Unschedulable, $"pod {pod.Metadata.Name} cannot be scheduled: {Quote(scheduled.Message)}; {fix}");
        }

        var containers = (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []);
        foreach (var container in containers.Where(c => c.Ready != true))
        {
            var waiting = container.State?.Waiting;
            var last = container.LastState?.Terminated;
            if (waiting?.Reason is { } reason && ImageReasons.Contains(reason))
            {
                var fix = workload == Workload.Builder ? "check spec.builder.image of the pool and the registry's pull credentials" : "check the operator's --gateway-image and the registry's pull credentials";
                return new StartFailure(reason == "ErrImagePull" ? ImagePullBackOff : reason, $"cannot pull image \"{container.Image}\" of container {container.Name}: {Quote(waiting.Message)}; {fix}");
            }

            if (last?.Reason == "OOMKilled")
            {
                var limit = pod.Spec?.Containers?.FirstOrDefault(c => c.Name == container.Name)?.Resources?.Limits?.TryGetValue("memory", out var memory) == true ? $" (limit {memory})" : string.Empty;
                var fix = workload == Workload.Builder ? "raise spec.builder.resources.limits.memory of the pool or lower spec.builder.maxParallelism" : "raise the gateway's memory limit";
                return new StartFailure(OomKilled, $"container {container.Name} was killed for using more memory than its limit{limit}, {container.RestartCount} restarts; {fix}");
            }

            if (waiting?.Reason == CrashLoopBackOff)
            {
                var exit = last is null ? "it keeps exiting" : $"it last exited with code {last.ExitCode}{(last.Reason is { } r ? $" ({r})" : string.Empty)}";
                var said = last?.Message is { Length: > 0 } text ? $": {Quote(text)}" : string.Empty;
                return new StartFailure(CrashLoopBackOff, $"container {container.Name} keeps crashing ({container.RestartCount} restarts); {exit}{said}; see kubectl logs --previous {pod.Metadata.Name}");
            }

            if (waiting?.Reason is { } config && ConfigReasons.Contains(config))
            {
                return new StartFailure(config, $"container {container.Name} cannot be created: {Quote(waiting.Message)}");
            }
        }

        return null;
    }

    private static StartFailure? Deadline(V1Deployment deployment)
    {
        var progressing = Condition(deployment, "Progressing");
        return progressing is { Status: "False", Reason: ProgressDeadlineExceeded }
            ? new StartFailure(ProgressDeadlineExceeded, $"{Quote(progressing.Message)}; no pod became ready in {deployment.Spec?.ProgressDeadlineSeconds ?? 600} s: see kubectl describe deployment {deployment.Metadata.Name}")
            : null;
    }

    private static V1DeploymentCondition? Condition(V1Deployment deployment, string type) =>
        deployment.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    private static string Quote(string? text) =>
        string.IsNullOrEmpty(text) ? "(no message)" : text.Length <= MaxQuoted ? text.Trim() : text[..MaxQuoted].Trim() + "…";
}
