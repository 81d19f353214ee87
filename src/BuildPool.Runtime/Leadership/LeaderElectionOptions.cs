namespace BuildPool.Runtime.Leadership;

/// <summary>Lease settings; the defaults are controller-runtime's (15 s / 10 s / 2 s).</summary>
public sealed class LeaderElectionOptions
{
    /// <summary>The Lease object's name, e.g. <c>buildpool-operator</c>.</summary>
    public required string LeaseName { get; init; }

    public required string LeaseNamespace { get; init; }

    /// <summary>This candidate's identity, unique among replicas (the pod name is a good choice).</summary>
    public required string Identity { get; init; }

    /// <summary>How long others wait after the last renewal before taking over. Whole seconds: the Lease stores seconds.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps retrying a failed renewal before it gives up leading. Must be shorter than <see cref="LeaseDuration"/>.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Give the Lease up when the process stops while leading (client-go's <c>ReleaseOnCancel</c>):
    /// once the controllers have stopped, the holder is cleared, so a standby takes over at its
    /// next retry (<see cref="RetryPeriod"/>) instead of waiting out <see cref="LeaseDuration"/>.
    /// </summary>
    public bool ReleaseOnCancel { get; init; } = true;

    /// <summary>Sent as <c>fieldManager</c> on the Lease's writes (null: the client library's default).</summary>
    public string? FieldManager { get; init; }
}
