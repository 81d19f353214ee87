namespace BuildPool.TestDoubles;

/// <summary>
/// The cluster <see cref="FakeKubelet.PlayAsync"/> pretends to be: which images exist, what its
/// one node offers, what Pod Security the namespace enforces, which containers crash. A pod
/// meets these as it would on a real cluster, and reports the state a real kubelet, scheduler,
/// admission or volume controller would.
/// </summary>
public sealed record KubeletRules
{
    /// <summary>Images no registry has: their pods go ErrImagePull, then ImagePullBackOff.</summary>
    public IReadOnlySet<string> MissingImages { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Labels of the cluster's only node: a pod whose nodeSelector asks for others is Unschedulable.</summary>
    public IReadOnlyDictionary<string, string> NodeLabels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal) { ["kubernetes.io/os"] = "linux" };

    /// <summary>The namespace's <c>pod-security.kubernetes.io/enforce</c> level (baseline or restricted); null admits anything.</summary>
    public string? EnforcePodSecurity { get; init; }

    /// <summary>Containers of these images exit at start: CrashLoopBackOff with this last termination.</summary>
    public IReadOnlyDictionary<string, ContainerExit> Crashing { get; init; } = new Dictionary<string, ContainerExit>(StringComparer.Ordinal);

    /// <summary>Plays the volume controller too: claims bind, except those naming a StorageClass that does not exist.</summary>
    public bool BindClaims { get; init; } = true;

    /// <summary>A container's last termination: exit code, reason (Error, OOMKilled) and message.</summary>
    public sealed record ContainerExit(int ExitCode, string Reason, string Message);
}
