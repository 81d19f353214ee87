using System.Globalization;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.TestDoubles;

/// <summary>
/// One Deployment's pod under <see cref="KubeletRules"/>: Pod Security refuses it (the
/// Deployment's ReplicaFailure), the scheduler cannot place it (unbound claim, node selector),
/// the kubelet cannot pull its image or keep it running, or it runs and is ready. The
/// Deployment's status follows, with ProgressDeadlineExceeded once its pod has not been ready
/// for <c>spec.progressDeadlineSeconds</c>.
/// </summary>
public static class FakePods
{
    public static async Task PlayAsync(ResourceClient<V1Deployment> deployments, ResourceClient<V1Pod> pods, V1Deployment deployment, IReadOnlyDictionary<string, string?> claims, KubeletRules rules)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(rules);
        var ns = deployment.Metadata.NamespaceProperty;
        var replicas = deployment.Spec.Replicas ?? 1;
        var podName = $"{deployment.Metadata.Name}-{deployment.Metadata.Generation?.ToString(CultureInfo.InvariantCulture) ?? "1"}";
        var selector = string.Join(',', (deployment.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>()).Select(l => $"{l.Key}={l.Value}"));
        var existing = selector.Length == 0 ? [] : await pods.ListAsync(ns, selector);
        foreach (var stale in existing.Where(p => replicas == 0 || p.Metadata.Name != podName))
        {
            await pods.DeleteAsync(ns, stale.Metadata.Name);
        }

        var spec = deployment.Spec.Template.Spec;
        var refusal = replicas > 0 && rules.EnforcePodSecurity is { } level ? FakePodSecurity.Refusal(level, podName, spec) : null;
        if (replicas == 0 || refusal is not null)
        {
            await SetDeploymentAsync(deployments, deployment, replicas, ready: false, refusal, deadlineExceeded: false);
            return;
        }

        var pod = existing.FirstOrDefault(p => p.Metadata.Name == podName) ?? await pods.CreateAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = podName,
                NamespaceProperty = ns,
                Labels = deployment.Spec.Template.Metadata?.Labels,
                OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = deployment.Metadata.Name, Uid = deployment.Metadata.Uid, Controller = true }],
            },
            Spec = spec,
        });
        var status = Status(pod, spec, claims, rules);
        if (!Same(status, pod.Status))
        {
            pod.Status = status;
            await pods.ReplaceStatusAsync(pod);
        }

        var ready = status.Phase == "Running" && status.ContainerStatuses?.All(c => c.Ready) == true;
        var age = DateTime.UtcNow - (pod.Metadata.CreationTimestamp ?? DateTime.UtcNow);
        var deadline = TimeSpan.FromSeconds(deployment.Spec.ProgressDeadlineSeconds ?? 600);
        await SetDeploymentAsync(deployments, deployment, replicas, ready, refusal: null, deadlineExceeded: !ready && age > deadline);
    }

    private static V1PodStatus Status(V1Pod pod, V1PodSpec spec, IReadOnlyDictionary<string, string?> claims, KubeletRules rules)
    {
        var unbound = spec.Volumes?.Any(v => v.PersistentVolumeClaim is { } c && claims.GetValueOrDefault(c.ClaimName) != "Bound") == true;
        var unmatched = spec.NodeSelector?.Any(l => rules.NodeLabels.GetValueOrDefault(l.Key) != l.Value) == true;
        if (unbound || unmatched)
        {
            var why = unbound ? "pod has unbound immediate PersistentVolumeClaims" : "1 node(s) didn't match Pod's node affinity/selector";
            return new V1PodStatus
            {
                Phase = "Pending",
                Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = $"0/1 nodes are available: {why}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling." }],
            };
        }

        var before = pod.Status?.ContainerStatuses ?? [];
        var containers = spec.Containers.Select(c => Container(c, before.FirstOrDefault(b => b.Name == c.Name), pod.Metadata.Name, rules)).ToList();
        var ready = containers.All(c => c.Ready);
        return new V1PodStatus
        {
            Phase = ready ? "Running" : "Pending",
            Conditions =
            [
                new V1PodCondition { Type = "PodScheduled", Status = "True" },
                new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False", Reason = ready ? null : "ContainersNotReady" },
            ],
            ContainerStatuses = containers,
        };
    }

    private static V1ContainerStatus Container(V1Container container, V1ContainerStatus? before, string pod, KubeletRules rules)
    {
        var status = new V1ContainerStatus { Name = container.Name, Image = container.Image, ImageID = string.Empty, Ready = false, RestartCount = 0 };
        if (rules.MissingImages.Contains(container.Image))
        {
            // The first failed pull, then the back-off between the kubelet's retries.
            var backingOff = before?.State?.Waiting?.Reason is "ErrImagePull" or "ImagePullBackOff";
            status.State = new V1ContainerState
            {
                Waiting = backingOff
                    ? new V1ContainerStateWaiting { Reason = "ImagePullBackOff", Message = $"Back-off pulling image \"{container.Image}\"" }
                    : new V1ContainerStateWaiting { Reason = "ErrImagePull", Message = $"rpc error: code = NotFound desc = failed to pull and unpack image \"{container.Image}\": not found" },
            };
            return status;
        }

        if (rules.Crashing.TryGetValue(container.Image, out var exit))
        {
            status.RestartCount = Math.Max(3, before?.RestartCount ?? 0);
            status.State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff", Message = $"back-off 40s restarting failed container={container.Name} pod={pod}" } };
            status.LastState = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exit.ExitCode, Reason = exit.Reason, Message = exit.Message } };
            return status;
        }

        status.Ready = true;
        status.Started = true;
        status.State = new V1ContainerState { Running = new V1ContainerStateRunning() };
        return status;
    }

    private static async Task SetDeploymentAsync(ResourceClient<V1Deployment> deployments, V1Deployment deployment, int replicas, bool ready, string? refusal, bool deadlineExceeded)
    {
        var conditions = new List<V1DeploymentCondition>
        {
            deadlineExceeded
                ? new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = "ProgressDeadlineExceeded", Message = $"ReplicaSet \"{deployment.Metadata.Name}\" has timed out progressing." }
                : new V1DeploymentCondition { Type = "Progressing", Status = "True", Reason = ready ? "NewReplicaSetAvailable" : "ReplicaSetUpdated", Message = $"ReplicaSet \"{deployment.Metadata.Name}\" is progressing." },
            new V1DeploymentCondition { Type = "Available", Status = ready || replicas == 0 ? "True" : "False", Reason = ready || replicas == 0 ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable" },
        };
        if (refusal is not null)
        {
            conditions.Add(new V1DeploymentCondition { Type = "ReplicaFailure", Status = "True", Reason = "FailedCreate", Message = refusal });
        }

        var created = refusal is null ? replicas : 0;
        var status = new V1DeploymentStatus
        {
            ObservedGeneration = deployment.Metadata.Generation,
            Replicas = created,
            UpdatedReplicas = created,
            ReadyReplicas = ready ? replicas : 0,
            AvailableReplicas = ready ? replicas : 0,
            UnavailableReplicas = ready ? 0 : replicas,
            Conditions = conditions,
        };
        if (Same(status, deployment.Status))
        {
            return;
        }

        deployment.Status = status;
        await deployments.ReplaceStatusAsync(deployment);
    }

    // Written only when it changes: every write wakes the operator's watches.
    private static bool Same(object status, object? before) =>
        before is not null && KubernetesJson.Serialize(status) == KubernetesJson.Serialize(before);
}
