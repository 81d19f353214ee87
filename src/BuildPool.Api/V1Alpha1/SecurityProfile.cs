using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How the BuildKit daemon is isolated from its node.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SecurityProfile>))]
public enum SecurityProfile
{
    /// <summary>Runs buildkitd as an unprivileged user with rootless containers; needs no privileges beyond an unconfined seccomp/AppArmor profile. The safe default.</summary>
    Rootless,

    /// <summary>Runs buildkitd as root inside a pod user namespace (hostUsers: false); needs Kubernetes 1.30+ with user namespaces enabled on the nodes.</summary>
    UserNamespace,

    /// <summary>Runs buildkitd as a privileged container. Fastest and most compatible, but a build can escape to the node; use only for trusted builds.</summary>
    Privileged,
}
