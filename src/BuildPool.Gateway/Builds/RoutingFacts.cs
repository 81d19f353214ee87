using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

// Everything BuildRouter.Decide decides one build by, read under the correlator's lock: the
// build's key, what placement says for it, what pool mode can do, and what the build's earlier
// holds left behind. Times are instants on the correlator's monotonic clock.
internal readonly record struct RoutingFacts
{
    public TimeSpan Now { get; init; }

    // Null for a build that offered no key. A tenant's key is already in its key space
    // (TenantInfo.Scope); untrusted key patterns match the key as the client named it.
    public RoutingKey? Key { get; init; }

    // Why the build's key may not be used (the key rule, or an :authority the TLS server name
    // does not confirm), and the gRPC status of that refusal; null for a usable key.
    public string? KeyRefusal { get; init; }

    public int KeyRefusalStatus { get; init; }

    // Why the build is untrusted (isolation policy); null when it is trusted.
    public string? Untrusted { get; init; }

    // Keyed: where placement puts the key. Keyless: the least loaded ready builder.
    public PlacementDecision Placed { get; init; }

    // Keyed, when Placed is a stopped builder: the key placed past stopped builders.
    public PlacementDecision Spilled { get; init; }

    // Keyless: the connection's last keyed builder, when it is ready and not a fork.
    public Backend? Followed { get; init; }

    // Pool mode: stopped builders can be started, volumes forked.
    public bool CanStartBuilders { get; init; }

    public bool CanFork { get; init; }

    // How long a build waits for a fork (the pool's startTimeout).
    public TimeSpan ForkTimeout { get; init; }

    // The key's ready builder, when it forks on overflow: whether a build there would queue, its
    // least loaded free fork, and whether a fork may still come.
    public bool WouldQueue { get; init; }

    public Backend? FreeFork { get; init; }

    public bool ForkPending { get; init; }

    // From the build's earlier holds.
    public bool StartWaited { get; init; }

    public string? StartFailure { get; init; }

    public TimeSpan? OverflowWaitSince { get; init; }

    // An untrusted build that asked for its isolated fork: the volume, when it asked, and the
    // fork as discovery sees it (null until it appears).
    public string? IsolationBase { get; init; }

    public TimeSpan? IsolationRequestedAt { get; init; }

    public Backend? IsolatedFork { get; init; }
}
