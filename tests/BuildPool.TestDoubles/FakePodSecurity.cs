using k8s.Models;

namespace BuildPool.TestDoubles;

/// <summary>
/// The Pod Security admission's checks that BuildPool's pods can meet or miss (privileged,
/// seccomp and AppArmor profiles, host namespaces and paths; for restricted also privilege
/// escalation, non-root and dropped capabilities), with the API server's wording.
/// </summary>
public static class FakePodSecurity
{
    /// <summary>The API server's refusal of <paramref name="podName"/>, or null when the level admits the pod.</summary>
    public static string? Refusal(string level, string podName, V1PodSpec pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var violations = Violations(level, pod).ToList();
        return violations.Count == 0 ? null : $"pods \"{podName}\" is forbidden: violates PodSecurity \"{level}:latest\": {string.Join(", ", violations)}";
    }

    private static IEnumerable<string> Violations(string level, V1PodSpec pod)
    {
        if (pod.HostNetwork == true || pod.HostPID == true || pod.HostIPC == true)
        {
            yield return "host namespaces (hostNetwork=true, hostPID=true or hostIPC=true)";
        }

        if (pod.Volumes?.FirstOrDefault(v => v.HostPath is not null) is { } host)
        {
            yield return $"hostPath volumes (volume \"{host.Name}\")";
        }

        var restricted = level == "restricted";
        foreach (var c in (pod.InitContainers ?? []).Concat(pod.Containers ?? []))
        {
            var sc = c.SecurityContext;
            if (sc?.Privileged == true)
            {
                yield return $"privileged (container \"{c.Name}\" must not set securityContext.privileged=true)";
            }

            var seccomp = sc?.SeccompProfile?.Type ?? pod.SecurityContext?.SeccompProfile?.Type;
            if (seccomp == "Unconfined")
            {
                yield return $"seccompProfile (container \"{c.Name}\" must not set securityContext.seccompProfile.type to \"Unconfined\")";
            }
            else if (restricted && seccomp is not ("RuntimeDefault" or "Localhost"))
            {
                yield return $"seccompProfile (pod or container \"{c.Name}\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")";
            }

            if ((sc?.AppArmorProfile?.Type ?? pod.SecurityContext?.AppArmorProfile?.Type) == "Unconfined")
            {
                yield return $"appArmorProfile (container \"{c.Name}\" must not set securityContext.appArmorProfile.type to \"Unconfined\")";
            }

            if (!restricted)
            {
                continue;
            }

            if (sc?.AllowPrivilegeEscalation != false)
            {
                yield return $"allowPrivilegeEscalation != false (container \"{c.Name}\" must set securityContext.allowPrivilegeEscalation=false)";
            }

            if ((sc?.RunAsNonRoot ?? pod.SecurityContext?.RunAsNonRoot) != true)
            {
                yield return $"runAsNonRoot != true (pod or container \"{c.Name}\" must set securityContext.runAsNonRoot=true)";
            }

            if (sc?.Capabilities?.Drop?.Contains("ALL") != true)
            {
                yield return $"unrestricted capabilities (container \"{c.Name}\" must set securityContext.capabilities.drop=[\"ALL\"])";
            }
        }
    }
}
