using BuildPool.Api.Units;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

/// <summary>
/// The routing policy of one build, as a pure function of its <see cref="RoutingFacts"/>: where
/// a keyed, untrusted or keyless build goes, when it waits for a builder to start or for a fork,
/// and when no builder may take it. It reads no clock and does no I/O; the correlator gathers
/// the facts and carries the decision out. A route allocates nothing.
/// </summary>
internal static class BuildRouter
{
    public static RoutingDecision Decide(in RoutingFacts facts) => facts.Key switch
    {
        _ when facts.KeyRefusal is { } refusal => RoutingDecision.Refuse(PlacementOutcome.Unavailable, refusal, facts.KeyRefusalStatus),
        null => Keyless(facts),
        { } key when facts.Untrusted is { } why => Isolated(facts, key, why),
        { } key => Keyed(facts, key),
    };

    /// <summary>
    /// A stopped builder, a Dedicated key without its volume yet, or a Dedicated volume that is
    /// restarting: worth waiting for, since its cache is where the build is fast.
    /// </summary>
    public static bool WaitsForStart(PlacementDecision placed) =>
        placed.NeedsStart
        || placed.Outcome == PlacementOutcome.AwaitingVolume
        || (placed.Outcome == PlacementOutcome.Unavailable && placed.Backend is not null);

    private static RoutingDecision Keyed(in RoutingFacts facts, RoutingKey key)
    {
        var placed = facts.Placed;
        if (facts.CanStartBuilders && !facts.StartWaited && WaitsForStart(placed))
        {
            return RoutingDecision.HoldFor(BuildHoldKind.BuilderStart, TimeSpan.MaxValue, placed.Backend, placed.Outcome);
        }

        if (placed.NeedsStart)
        {
            // Nobody can start the builder (static discovery) or it did not start in time: the
            // next one on the ring instead.
            placed = facts.Spilled;
        }

        if (placed.Backend is not { State: BackendState.Ready } backend)
        {
            return RoutingDecision.Refuse(placed.Outcome, facts.StartFailure ?? (placed.Outcome == PlacementOutcome.AwaitingVolume
                ? $"no cache volume serves key {key.Value} yet"
                : $"no ready builder for key {key.Value}"));
        }

        if (facts.CanFork && backend.ForksOnOverflow && facts.WouldQueue)
        {
            if (facts.FreeFork is { } fork)
            {
                return RoutingDecision.Route(fork, PlacementOutcome.Forked, home: backend);
            }

            // A Private volume at capacity: the build waits (up to the fork timeout in all) for a
            // free fork, a free slot on the volume, or for it to be clear that no fork will come.
            var until = (facts.OverflowWaitSince ?? facts.Now) + facts.ForkTimeout;
            if (facts.ForkPending && until > facts.Now)
            {
                return RoutingDecision.HoldFor(BuildHoldKind.OverflowFork, until, backend, home: backend);
            }
        }

        return RoutingDecision.Route(backend, placed.Outcome, home: backend);
    }

    // An untrusted build: its own isolated fork of the key's volume, or a clear failure. It never
    // falls back to the volume's builder or any other that trusted builds use.
    private static RoutingDecision Isolated(in RoutingFacts facts, RoutingKey key, string why)
    {
        if (!facts.CanFork)
        {
            return RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({why}) for key {key.Value}: isolated forks need pool mode (--pool); untrusted builds never run on a shared builder");
        }

        if (facts.IsolationRequestedAt is not { } requested)
        {
            if (facts.Placed.Backend is { } volume)
            {
                return RoutingDecision.HoldFor(BuildHoldKind.IsolatedFork, facts.Now + facts.ForkTimeout, volume);
            }

            if (facts.CanStartBuilders && !facts.StartWaited && facts.Placed.Outcome == PlacementOutcome.AwaitingVolume)
            {
                // A Dedicated key without its volume yet: the fork needs the volume first.
                return RoutingDecision.HoldFor(BuildHoldKind.BuilderStart, TimeSpan.MaxValue, outcome: PlacementOutcome.AwaitingVolume);
            }

            return RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({why}) for key {key.Value}: no cache volume to fork ({facts.StartFailure ?? "none serves the key"})");
        }

        if (facts.IsolatedFork is { State: BackendState.Ready } fork)
        {
            return RoutingDecision.Route(fork, PlacementOutcome.Isolated);
        }

        var until = requested + facts.ForkTimeout;
        return until > facts.Now
            ? RoutingDecision.HoldFor(BuildHoldKind.IsolatedFork, until)
            : RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({why}) for key {key.Value}: its isolated fork of volume {facts.IsolationBase} was not ready within {GoDuration.Format(facts.ForkTimeout)}; untrusted builds never fall back to a shared builder");
    }

    // A keyless build of an untrusted client has no volume to fork, and every builder it could
    // reach serves trusted builds: it is refused rather than placed. Probe builds carry no key;
    // beside the connection's last keyed build they find its cache.
    private static RoutingDecision Keyless(in RoutingFacts facts)
    {
        if (facts.Untrusted is { } why)
        {
            return RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({why}) without a routing key: untrusted builds run only on an isolated fork of their key's volume");
        }

        if (facts.Followed is { } last)
        {
            return RoutingDecision.Route(last, PlacementOutcome.Any, followedConnection: true);
        }

        return facts.Placed.Backend is { } any
            ? RoutingDecision.Route(any, PlacementOutcome.Any)
            : RoutingDecision.Refuse(PlacementOutcome.Unavailable, "no ready builder");
    }
}
