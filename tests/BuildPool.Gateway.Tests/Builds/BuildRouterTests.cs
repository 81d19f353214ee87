using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Tests.Builds;

/// <summary>
/// <see cref="BuildRouter.Decide"/> as a table: each case is the facts a build is decided by,
/// the decision a user would see the effect of, and a sentence saying why.
/// </summary>
public sealed class BuildRouterTests
{
    private const string UntrustedKey = "key matches untrusted pattern pr-*";
    private const string UntrustedTenant = "tenant forks/pr-bot is bound with clientAccess.untrusted";

    private static readonly TimeSpan Now = TimeSpan.FromHours(1);
    private static readonly TimeSpan ForkTimeout = TimeSpan.FromSeconds(30);
    private static readonly RoutingKey App = new("app", RoutingKeySource.Authority);
    private static readonly RoutingKey Pr = new("pr-7", RoutingKeySource.Authority);

    private static readonly Backend Home = new("pool-0");
    private static readonly Backend StoppedHome = new("pool-0", BackendState.Stopped);
    private static readonly Backend Next = new("pool-1");
    private static readonly Backend PrivateHome = new("pool-0") { ForksOnOverflow = true };
    private static readonly Backend Fork = new("pool-0-f0") { ForkOf = "pool-0" };
    private static readonly Backend StartingIsolatedFork = new("pool-0-i1", BackendState.Stopped) { ForkOf = "pool-0", IsolatedFor = "1" };
    private static readonly Backend IsolatedFork = StartingIsolatedFork with { State = BackendState.Ready };

    // Static mode: no builder starter, no forks.
    private static readonly RoutingFacts Static = new() { Now = Now, Key = App, Placed = new(Home, PlacementOutcome.Hashed) };

    private static readonly RoutingFacts Pool = Static with { CanStartBuilders = true, CanFork = true, ForkTimeout = ForkTimeout };

    private static readonly RoutingFacts FullPrivateVolume = Pool with { Placed = new(PrivateHome, PlacementOutcome.Pinned), WouldQueue = true, ForkPending = true };

    private static readonly RoutingFacts UntrustedBuild = Pool with { Key = Pr, Untrusted = UntrustedKey };

    private static readonly RoutingFacts WaitingForIsolatedFork = UntrustedBuild with
    {
        IsolationBase = "pool-0",
        IsolationRequestedAt = Now - TimeSpan.FromSeconds(10),
        IsolatedFork = StartingIsolatedFork,
    };

    private static readonly RoutingFacts Keyless = Pool with { Key = null, Placed = new(Next, PlacementOutcome.Any) };

    private static readonly (string Sentence, RoutingFacts Facts, RoutingDecision Expected)[] Cases =
    [
        ("A keyed build goes to the builder its key is placed on",
            Static, RoutingDecision.Route(Home, PlacementOutcome.Hashed, home: Home)),
        ("A build whose key breaks the key rule is refused with its own status, even an untrusted one, before any placement",
            UntrustedBuild with { Key = null, KeyRefusal = "routing key \"my app\" (from SessionDirectory) refused: it contains ' '", KeyRefusalStatus = 3 },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, "routing key \"my app\" (from SessionDirectory) refused: it contains ' '", 3)),
        ("A build whose builder is stopped waits for it to start when pool mode can start it",
            Pool with { Placed = new(StoppedHome, PlacementOutcome.Hashed) },
            RoutingDecision.HoldFor(BuildHoldKind.BuilderStart, TimeSpan.MaxValue, StoppedHome, PlacementOutcome.Hashed)),
        ("A build whose builder is stopped goes to the next ready builder when nobody can start it",
            Static with { Placed = new(StoppedHome, PlacementOutcome.Hashed), Spilled = new(Next, PlacementOutcome.Spilled) },
            RoutingDecision.Route(Next, PlacementOutcome.Spilled, home: Next)),
        ("A build that already waited once for its builder to start goes to the next ready builder instead of waiting again",
            Pool with { Placed = new(StoppedHome, PlacementOutcome.Hashed), Spilled = new(Next, PlacementOutcome.Spilled), StartWaited = true },
            RoutingDecision.Route(Next, PlacementOutcome.Spilled, home: Next)),
        ("A build whose Dedicated volume is restarting waits for it rather than using another volume",
            Pool with { Placed = new(Home with { State = BackendState.Unavailable }, PlacementOutcome.Unavailable) },
            RoutingDecision.HoldFor(BuildHoldKind.BuilderStart, TimeSpan.MaxValue, Home with { State = BackendState.Unavailable }, PlacementOutcome.Unavailable)),
        ("A Dedicated key without its volume waits for the volume in pool mode",
            Pool with { Placed = new(null, PlacementOutcome.AwaitingVolume) },
            RoutingDecision.HoldFor(BuildHoldKind.BuilderStart, TimeSpan.MaxValue, outcome: PlacementOutcome.AwaitingVolume)),
        ("A Dedicated key without its volume is refused in static mode with a message naming the key",
            Static with { Placed = new(null, PlacementOutcome.AwaitingVolume) },
            RoutingDecision.Refuse(PlacementOutcome.AwaitingVolume, "no cache volume serves key app yet")),
        ("A build whose builder did not start in time and has nowhere to spill is refused with the starter's reason",
            Pool with { Placed = new(StoppedHome, PlacementOutcome.Hashed), Spilled = new(null, PlacementOutcome.Unavailable), StartWaited = true, StartFailure = "builder pool-0 did not start within 30s" },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, "builder pool-0 did not start within 30s")),
        ("A keyed build with no ready builder at all is refused with a message naming its key",
            Static with { Placed = new(null, PlacementOutcome.Unavailable) },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, "no ready builder for key app")),
        ("A build on a full Private volume goes to a free overflow fork, and the connection still follows the volume",
            FullPrivateVolume with { FreeFork = Fork, ForkPending = false },
            RoutingDecision.Route(Fork, PlacementOutcome.Forked, home: PrivateHome)),
        ("A build on a full Private volume waits up to the fork timeout for a fork that may still come",
            FullPrivateVolume,
            RoutingDecision.HoldFor(BuildHoldKind.OverflowFork, Now + ForkTimeout, PrivateHome, home: PrivateHome)),
        ("A build that waited for a fork before keeps its first deadline",
            FullPrivateVolume with { OverflowWaitSince = Now - TimeSpan.FromSeconds(20) },
            RoutingDecision.HoldFor(BuildHoldKind.OverflowFork, Now + TimeSpan.FromSeconds(10), PrivateHome, home: PrivateHome)),
        ("A build whose fork wait ran out queues on its Private volume",
            FullPrivateVolume with { OverflowWaitSince = Now - ForkTimeout },
            RoutingDecision.Route(PrivateHome, PlacementOutcome.Pinned, home: PrivateHome)),
        ("A build on a full Private volume queues there when no fork can come any more",
            FullPrivateVolume with { ForkPending = false },
            RoutingDecision.Route(PrivateHome, PlacementOutcome.Pinned, home: PrivateHome)),
        ("A Private volume with a free slot takes the build itself",
            FullPrivateVolume with { WouldQueue = false },
            RoutingDecision.Route(PrivateHome, PlacementOutcome.Pinned, home: PrivateHome)),
        ("Without pool mode a full Private volume queues like a Shared one",
            FullPrivateVolume with { CanStartBuilders = false, CanFork = false },
            RoutingDecision.Route(PrivateHome, PlacementOutcome.Pinned, home: PrivateHome)),
        ("A full Shared volume queues and asks for no fork",
            FullPrivateVolume with { Placed = new(Home, PlacementOutcome.Pinned) },
            RoutingDecision.Route(Home, PlacementOutcome.Pinned, home: Home)),
        ("An untrusted build is refused without pool mode, since it never runs on a shared builder",
            UntrustedBuild with { CanStartBuilders = false, CanFork = false },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({UntrustedKey}) for key pr-7: isolated forks need pool mode (--pool); untrusted builds never run on a shared builder")),
        ("An untrusted build asks for an isolated fork of its key's volume and waits for it up to the fork timeout",
            UntrustedBuild,
            RoutingDecision.HoldFor(BuildHoldKind.IsolatedFork, Now + ForkTimeout, Home)),
        ("An untrusted build whose key's builder is stopped forks that volume rather than going to another builder",
            UntrustedBuild with { Placed = new(StoppedHome, PlacementOutcome.Hashed), Spilled = new(Next, PlacementOutcome.Spilled) },
            RoutingDecision.HoldFor(BuildHoldKind.IsolatedFork, Now + ForkTimeout, StoppedHome)),
        ("An untrusted build goes to its isolated fork once the fork is ready, never beside trusted builds",
            WaitingForIsolatedFork with { IsolatedFork = IsolatedFork },
            RoutingDecision.Route(IsolatedFork, PlacementOutcome.Isolated)),
        ("An untrusted build keeps waiting for its isolated fork until the fork timeout since it asked",
            WaitingForIsolatedFork,
            RoutingDecision.HoldFor(BuildHoldKind.IsolatedFork, Now + TimeSpan.FromSeconds(20))),
        ("An untrusted build whose isolated fork did not come in time is refused instead of using a trusted builder",
            WaitingForIsolatedFork with { IsolationRequestedAt = Now - ForkTimeout },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({UntrustedKey}) for key pr-7: its isolated fork of volume pool-0 was not ready within 30s; untrusted builds never fall back to a shared builder")),
        ("An untrusted build of a Dedicated key without its volume waits for the volume before its fork",
            UntrustedBuild with { Placed = new(null, PlacementOutcome.AwaitingVolume) },
            RoutingDecision.HoldFor(BuildHoldKind.BuilderStart, TimeSpan.MaxValue, outcome: PlacementOutcome.AwaitingVolume)),
        ("An untrusted build with no volume to fork is refused with the reason",
            UntrustedBuild with { Placed = new(null, PlacementOutcome.AwaitingVolume), StartWaited = true, StartFailure = "volume for pr-7 not created within 30s" },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({UntrustedKey}) for key pr-7: no cache volume to fork (volume for pr-7 not created within 30s)")),
        ("A keyless build follows its connection's last keyed build",
            Keyless with { Followed = Home },
            RoutingDecision.Route(Home, PlacementOutcome.Any, followedConnection: true)),
        ("A keyless build goes to the least loaded ready builder",
            Keyless,
            RoutingDecision.Route(Next, PlacementOutcome.Any)),
        ("A keyless build with no ready builder is refused",
            Keyless with { Placed = new(null, PlacementOutcome.Unavailable) },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, "no ready builder")),
        ("A keyless build of an untrusted client is refused, having no volume to fork",
            Keyless with { Untrusted = UntrustedTenant, Followed = Home },
            RoutingDecision.Refuse(PlacementOutcome.Unavailable, $"untrusted build ({UntrustedTenant}) without a routing key: untrusted builds run only on an isolated fork of their key's volume")),
    ];

    public static TheoryData<string> Sentences => [.. Cases.Select(c => c.Sentence)];

    [Theory]
    [MemberData(nameof(Sentences))]
    public void Decides(string sentence)
    {
        var (_, facts, expected) = Cases.Single(c => c.Sentence == sentence);

        Assert.Equal(expected, BuildRouter.Decide(facts));
    }

    [Fact]
    public void Every_case_has_its_own_sentence() =>
        Assert.Equal(Cases.Length, Cases.Select(c => c.Sentence).Distinct(StringComparer.Ordinal).Count());

    [Fact]
    public void Deciding_a_route_allocates_nothing()
    {
        RoutingFacts[] routes = [Static, FullPrivateVolume with { FreeFork = Fork }, WaitingForIsolatedFork with { IsolatedFork = IsolatedFork }, Keyless with { Followed = Home }, Keyless];
        const int Decisions = 10_000;
        for (var i = 0; i < Decisions; i++)
        {
            BuildRouter.Decide(routes[i % routes.Length]);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Decisions; i++)
        {
            BuildRouter.Decide(routes[i % routes.Length]);
        }

        // Judged per decision, as PlacementTests judges Placement.Place: one object per decision
        // would be at least 24 bytes × 10,000.
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < Decisions, $"{allocated} bytes for {Decisions} decisions");
    }
}
