using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// What the gateway needs from a discovery that can start builders (Kubernetes: the operator, told
/// through annotations). Static discovery has none, so a stopped builder's builds spill at once.
/// </summary>
public interface IBuilderStarter
{
    /// <summary>
    /// A build's key landed on a builder that does not take builds now (stopped, starting, or in
    /// Dedicated mode a volume that does not exist yet). Asks for it and completes once a ready
    /// builder serves the key (null), or with the reason it does not after the start timeout;
    /// the caller then places the build again without stopped builders. Called under the
    /// correlator's lock: the synchronous part must only signal, never block.
    /// </summary>
    /// <param name="placement">Where the build is placed again while it waits.</param>
    /// <param name="key">The build's routing key.</param>
    /// <param name="decision">The placement that made it wait.</param>
    /// <param name="tenant">The tenant the build came from (its binding), recorded with a Dedicated volume request; null for none.</param>
    /// <param name="cancellationToken">
    /// Cancelled when the build ends while it waits (its client went away): the wait completes at
    /// once with a reason, and what it asked for that no other build waits for is withdrawn.
    /// </param>
    Task<string?> WaitForBuilderAsync(Placement placement, string key, PlacementDecision decision, string? tenant = null, CancellationToken cancellationToken = default);

    /// <summary>Dedicated mode: <paramref name="key"/> has no volume; asks for one for <paramref name="tenant"/> (cheap and idempotent).</summary>
    void RequestVolume(string key, string? tenant);

    /// <summary>A build was routed to <paramref name="backendId"/> (the heartbeat's input; called per build, so cheap).</summary>
    void Used(string backendId);
}
