namespace BuildPool.Host.Dev;

/// <summary>How <see cref="LocalKubelet"/> runs pods on this machine.</summary>
public sealed class LocalKubeletOptions
{
    /// <summary>The dev state folder: claims live under <c>kubelet/volumes</c>, pods under <c>kubelet/pods</c>.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>The <c>buildkitd</c> executable that builder containers run.</summary>
    public required string BuildkitdPath { get; init; }

    /// <summary>The kubeconfig an in-process gateway reads its pool through.</summary>
    public required string Kubeconfig { get; init; }

    /// <summary>The first pool's gateway port (the next pools take the ports after it); 0 picks free ports.</summary>
    public int FirstGatewayPort { get; init; } = 1234;

    /// <summary>The first wait before a crashed container restarts; it doubles per crash up to <see cref="MaxRestartBackoff"/>, as the kubelet's does.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A container that ran this long before it exited starts its backoff over.</summary>
    public TimeSpan BackoffReset { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a stopping container has after SIGTERM before it is killed.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the kubelet compares the API with what runs (a poll: the local API is in this process).</summary>
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where user-facing lines (the buildx command of each pool) go.</summary>
    public TextWriter Output { get; init; } = Console.Out;
}
