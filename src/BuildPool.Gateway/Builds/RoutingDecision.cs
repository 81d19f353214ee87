using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

// BuildRouter.Decide's answer: Route, Hold (until a wait ends, at most Until) or Refuse (Reason).
// A struct pointing at placement's own Backend instances, so a route allocates nothing.
internal readonly record struct RoutingDecision
{
    public RoutingVerdict Verdict { get; private init; }

    // Route: the builder. Hold: the builder whose start it waits for (BuilderStart), the volume
    // whose forks it waits for (OverflowFork), or the volume to fork for it (IsolatedFork, the
    // first time).
    public Backend? Backend { get; private init; }

    public PlacementOutcome Outcome { get; private init; }

    // The key's own ready builder: the connection's next keyless build follows it.
    public Backend? Home { get; private init; }

    public bool FollowedConnection { get; private init; }

    public BuildHoldKind Hold { get; private init; }

    // Hold: the instant the wait gives up (TimeSpan.MaxValue: the builder starter bounds it).
    public TimeSpan Until { get; private init; }

    // Refuse: the grpc-message, and the status (UNAVAILABLE unless the build itself is refused).
    public string? Reason { get; private init; }

    public int RefusalStatus { get; private init; }

    public static RoutingDecision Route(Backend backend, PlacementOutcome outcome, Backend? home = null, bool followedConnection = false) =>
        new() { Verdict = RoutingVerdict.Route, Backend = backend, Outcome = outcome, Home = home, FollowedConnection = followedConnection };

    public static RoutingDecision HoldFor(BuildHoldKind hold, TimeSpan until, Backend? backend = null, PlacementOutcome outcome = default, Backend? home = null) =>
        new() { Verdict = RoutingVerdict.Hold, Hold = hold, Until = until, Backend = backend, Outcome = outcome, Home = home };

    public static RoutingDecision Refuse(PlacementOutcome outcome, string reason, int status = Server.GrpcStatusResponse.Unavailable) =>
        new() { Verdict = RoutingVerdict.Refuse, Outcome = outcome, Reason = reason, RefusalStatus = status };
}
