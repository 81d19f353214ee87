using BuildPool.Gateway.Routing;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Builds;

// Starts the wait of a held build (BuildRouter's Hold) and takes note of its end: a stopped
// builder's start, a free overflow fork, an isolated fork. Called under the correlator's lock;
// the waits run outside it, and the correlator decides the build again when one ends.
internal sealed class BuildHolds(Placement placement, PoolMode pool, ForkRouting? forks, ILogger logger)
{
    // Builds waiting for an overflow fork, per base volume (how many forks to ask for), and in all
    // (read without the lock when a slot frees).
    private readonly Dictionary<string, int> _overflowWaiters = new(StringComparer.Ordinal);
    private int _waitingForForks;

    public Task Begin(BuildUnit unit, in RoutingFacts facts, in RoutingDecision decision)
    {
        switch (decision.Hold)
        {
            case BuildHoldKind.BuilderStart:
                // The starter asks for the builder and completes when it is ready or the start
                // timeout passed (with why not).
                unit.Holds.StartWaited = true;
                unit.Holds.StartWait = new CancellationTokenSource();
                return pool.Starter!.WaitForBuilderAsync(placement, facts.Key!.Value.Value, new PlacementDecision(decision.Backend, decision.Outcome), unit.Origin.Tenant?.AdmissionKey, unit.Holds.StartWait.Token);
            case BuildHoldKind.OverflowFork:
                return WaitForOverflowFork(unit, decision.Backend!.Id, facts.Now, decision.Until - facts.Now);
            default:
                return WaitForIsolatedFork(unit, facts, decision);
        }
    }

    public void End(BuildUnit held, in RoutingDecision decision, Task wait)
    {
        if (decision.Hold == BuildHoldKind.BuilderStart)
        {
            held.Holds.StartWait?.Dispose();
            held.Holds.StartWait = null;
            held.Holds.StartFailure = wait is Task<string?> { IsCompletedSuccessfully: true } started
                ? started.Result
                : "waiting for the builder to start failed";
        }
        else if (decision.Hold == BuildHoldKind.OverflowFork)
        {
            var baseId = decision.Backend!.Id;
            Interlocked.Decrement(ref _waitingForForks);
            if (_overflowWaiters.TryGetValue(baseId, out var waiting) && waiting > 1)
            {
                _overflowWaiters[baseId] = waiting - 1;
            }
            else
            {
                _overflowWaiters.Remove(baseId);
            }
        }
    }

    // A Solve ended: a build waiting for a fork of a full Private volume takes the freed slot instead.
    public void SlotFreed()
    {
        if (Volatile.Read(ref _waitingForForks) > 0)
        {
            pool.Forks?.Wake();
        }
    }

    // The build ended: a wait for its builder's start ends with it, and its isolated fork is
    // discarded (the operator drains and deletes it).
    public void Release(BuildUnit unit)
    {
        // Under the correlator's lock: the wait's end may run inline here, but it only signals the
        // starter's writer; EndHold, which takes this lock, is a continuation that runs later.
        unit.Holds.StartWait?.Cancel();
        if (unit.Holds.Isolation is { Released: false } claim)
        {
            claim.Released = true;
            pool.Forks?.ReleaseIsolated(claim.Base, claim.BuildId);
        }
    }

    private Task WaitForOverflowFork(BuildUnit unit, string baseId, TimeSpan now, TimeSpan remaining)
    {
        unit.Holds.OverflowWaitSince ??= now;
        var waiting = _overflowWaiters.GetValueOrDefault(baseId) + 1;
        _overflowWaiters[baseId] = waiting;
        Interlocked.Increment(ref _waitingForForks);
        var routing = forks!;
        pool.Forks!.RequestOverflow(baseId, routing.WantedForks(baseId, waiting));
        return pool.Forks.WaitAsync(() => routing.FreeFork(baseId) is not null || !routing.WouldQueue(baseId) || !routing.ForkPending(baseId), remaining);
    }

    private Task WaitForIsolatedFork(BuildUnit unit, in RoutingFacts facts, in RoutingDecision decision)
    {
        if (unit.Holds.Isolation is not { } claim)
        {
            var volume = decision.Backend!;
            claim = unit.Holds.Isolation = new IsolationClaim(volume.ForkOf ?? volume.Id, NewBuildId(), facts.Now);
            pool.Forks!.RequestIsolated(claim.Base, claim.BuildId);
            BuildLog.Isolating(logger, facts.Key!.Value.Value, facts.Untrusted!, claim.Base, claim.BuildId);
        }

        var routing = forks!;
        var id = claim.BuildId;
        return pool.Forks!.WaitAsync(() => routing.IsolatedFork(id) is { State: BackendState.Ready }, decision.Until - facts.Now);
    }

    private static string NewBuildId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(5));
}
