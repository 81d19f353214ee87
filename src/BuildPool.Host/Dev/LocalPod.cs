using k8s.Models;

namespace BuildPool.Host.Dev;

/// <summary>The kubelet's memory of the one pod it runs for a Deployment.</summary>
internal sealed class LocalPod(string @namespace, string deployment, string name, string templateHash)
{
    public string Namespace { get; } = @namespace;

    public string Deployment { get; } = deployment;

    public string Name { get; } = name;

    public string TemplateHash { get; } = templateHash;

    /// <summary>The loopback port the container listens on (kept across restarts, so the endpoint stays).</summary>
    public int Port { get; set; }

    /// <summary>Ports by container port name and number, for the Service's targetPort.</summary>
    /// <summary>The pod template's labels, which Service selectors match.</summary>
    public IDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public Dictionary<string, int> NamedPorts { get; } = new(StringComparer.Ordinal);

    public LocalContainer? Container { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public bool Ready { get; set; }

    public int RestartCount { get; set; }

    public TimeSpan Backoff { get; set; }

    /// <summary>While crashed: when it may start again.</summary>
    public DateTimeOffset? RestartAt { get; set; }

    public V1ContainerStateTerminated? LastTerminated { get; set; }

    /// <summary>Why it cannot start now (a missing Secret, an unusable binary); null when it can.</summary>
    public string? Waiting { get; set; }

    public bool Created { get; set; }

    /// <summary>The status last written, to write only changes.</summary>
    public string? WrittenStatus { get; set; }

    public PodFiles? Files { get; set; }
}
