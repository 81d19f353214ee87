using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Builds;

/// <summary>
/// Ties the calls of one build together (its Session, Solve, Status and LLBBridge calls) and
/// routes them as one unit: BuildKit keeps a session in the memory of the daemon that received
/// it, so a Solve on any other daemon fails with <c>no active session</c>.
/// </summary>
/// <remarks>
/// A build is decided once every key source ranked above the best key found so far is known:
/// connection sources (authority, SNI, client certificate) are known at the first call, the
/// Solve's image and cache refs when the Solve arrives, the session directory when the Session
/// arrives (or when a Solve names no session). So the key of a project does not depend on
/// whether its Session or its Solve won the race, and a Solve whose Session arrived without a key
/// decides at once. Calls that arrive earlier wait, bounded by <see cref="BuildCorrelatorOptions.DecisionWait"/>.
/// Where a decided build goes, or what it waits for, is <see cref="BuildRouter"/>'s policy; this
/// class keeps the books (which calls make a build, where it stands, when it ended).
/// Builds are rare next to frames, so one lock guards all of this; it also makes a decision and
/// its load count one step, which bounded-load placement needs under concurrency.
/// </remarks>
public sealed class BuildCorrelator : IDisposable
{
    private readonly BuildCorrelatorOptions _options;
    private readonly TimeProvider _time;
    private readonly long _clockOrigin;
    private readonly ILogger _logger;
    private readonly RoutingFactsReader _facts;
    private readonly BuildHolds _holds;
    private readonly SolveAdmission _admission;
    private readonly BuildReports _reports;
    private readonly Lock _lock = new();
    private readonly BuildIndex _builds = new();

    // Ended builds in the order they ended (so also of when their grace ends): the sweep reads
    // only the expired front, never every build, under the lock routing decisions take. An entry
    // whose build was revived, merged or forgotten since is skipped.
    private readonly Queue<(BuildUnit Unit, long EndedAt)> _ended = new();
    private readonly ITimer _sweeper;

    /// <param name="pool">What routing can do beyond ready builders (pool mode); none when null.</param>
    public BuildCorrelator(
        KeyExtractor extractor,
        Placement placement,
        AdmissionController admission,
        BuildCorrelatorOptions? options = null,
        TimeProvider? timeProvider = null,
        GatewayMetrics? metrics = null,
        ILogger<BuildCorrelator>? logger = null,
        PoolMode? pool = null)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(admission);
        pool ??= new PoolMode();
        _options = options ?? new BuildCorrelatorOptions();
        _time = timeProvider ?? TimeProvider.System;
        _clockOrigin = _time.GetTimestamp();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var forks = pool.Forks is { } requester ? new ForkRouting(placement, admission, requester) : null;
        _facts = new RoutingFactsReader(extractor, placement, pool, forks);
        _holds = new BuildHolds(placement, pool, forks, _logger);
        _admission = new SolveAdmission(placement, admission, pool, metrics);
        _reports = new BuildReports(_time, metrics, _logger, placement, _options.Pool);
        var sweep = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, _options.EndedGrace.Ticks / 2));
        _sweeper = _time.CreateTimer(static s => ((BuildCorrelator)s!).Sweep(), this, sweep, sweep);
    }

    /// <summary>The correlator's clock (the gateway's), also for the progress of held builds.</summary>
    internal TimeProvider Time => _time;

    internal BuildCorrelatorOptions Options => _options;

    /// <summary>Builds the gateway currently remembers (running, waiting, or ended within the grace period).</summary>
    public int TrackedBuilds
    {
        get
        {
            lock (_lock)
            {
                return _builds.Count;
            }
        }
    }

    /// <summary>The last finished builds, oldest first (at most 1,024).</summary>
    public IReadOnlyList<BuildSummary> RecentBuilds => _reports.Recent;

    /// <summary>What this gateway remembers of each key's last builds and each builder's prunes (to explain cache misses).</summary>
    public Insight.BuildHistory History => _reports.History;

    /// <summary>Registers a downstream connection; call <see cref="CloseConnection"/> when it ends.</summary>
    public static ClientConnection OpenConnection(string id) => new(id);

    /// <summary>The connection closed: its builds end once their calls are gone (their slots free now, as the calls abort).</summary>
    public void CloseConnection(ClientConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        lock (_lock)
        {
            connection.Closed = true;
            foreach (var unit in connection.Units.ToArray())
            {
                MaybeEnd(unit.Root);
            }
        }
    }

    /// <summary>A <c>Control/Session</c> call with its uuid and shared-key headers.</summary>
    public BuildCall JoinSession(string sessionId, string? sharedKey, ClientConnection connection, CallOrigin origin)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        lock (_lock)
        {
            var unit = Owned(_builds.BySession(sessionId), origin, "session", sessionId) ?? Create(connection, origin, refId: null, sessionId);
            if (!unit.SessionSeen)
            {
                unit.SessionSeen = true;
                unit.SharedKey = string.IsNullOrEmpty(sharedKey) ? null : sharedKey;
            }

            return Enter(unit, BuildCallKind.Session, record: null, ticket: null);
        }
    }

    /// <summary>A <c>Control/Solve</c> call with the fields parsed from its request.</summary>
    public BuildCall JoinSolve(SolveRequestFields fields, ClientConnection connection, CallOrigin origin, CancellationToken aborted)
    {
        lock (_lock)
        {
            var byRef = Owned(_builds.ByRef(fields.Ref), origin, "build", fields.Ref);
            var bySession = Owned(_builds.BySession(fields.Session), origin, "session", fields.Session);
            var unit = (byRef, bySession) switch
            {
                (null, null) => Create(connection, origin, fields.Ref, fields.Session),
                (not null, null) => byRef,
                (null, not null) => bySession,
                _ => byRef == bySession ? byRef : Merge(byRef, bySession),
            };
            _builds.Register(unit, fields.Ref, fields.Session);
            var (record, ticket) = unit.AddSolve(fields, origin.Tenant, aborted, _time.GetTimestamp());
            if (unit.Route is { } route)
            {
                _admission.Issue(ticket, route);
            }
            else
            {
                unit.PendingSolves.Add(ticket);
            }

            return Enter(unit, BuildCallKind.Solve, record, ticket);
        }
    }

    /// <summary>A call named only by its build ref: <c>Control/Status</c> or an <c>LLBBridge</c> call.</summary>
    public BuildCall JoinRef(string reference, BuildCallKind kind, ClientConnection connection, CallOrigin origin)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        lock (_lock)
        {
            var unit = Owned(_builds.ByRef(reference), origin, "build", reference) ?? Create(connection, origin, reference, sessionId: null);
            return Enter(unit, kind, unit.RecordFor(reference), ticket: null);
        }
    }

    internal void Admitted(BuildCall call, AdmissionLease lease) => _reports.Admitted(call.Record, lease);

    internal void Forwarding(BuildCall call) => _reports.Forwarding(call.Record);

    internal string? DescribeWait(BuildCall call)
    {
        lock (_lock)
        {
            return HeldBuildDescription.Of(call.Unit.Root, call.Record, _admission);
        }
    }

    internal void SolveCompleted(BuildCall call, int grpcStatus)
    {
        _reports.SolveEnded(call.Record, call.Ticket, grpcStatus);
        call.Ticket?.Release();
        _holds.SlotFreed();
    }

    internal void Leave(BuildCall call)
    {
        lock (_lock)
        {
            var unit = call.Unit.Root;
            unit.ActiveCalls--;
            unit.LastActivity = _time.GetTimestamp();
            if (call.Ticket is { } ticket)
            {
                // It may have left (its client went away) before it was forwarded.
                call.Record?.EndWithoutForwarding(_time.GetElapsedTime(call.Record.SolveArrived), 1, "the build's Solve ended before it reached a builder");
                unit.OpenSolves--;
                unit.PendingSolves.Remove(ticket);
                ticket.Release();
            }

            MaybeEnd(unit);
        }
    }

    public void Dispose() => _sweeper.Dispose();

    private BuildCall Enter(BuildUnit unit, BuildCallKind kind, RefRecord? record, SolveTicket? ticket)
    {
        unit.ActiveCalls++;
        unit.LastActivity = _time.GetTimestamp();
        // A late call of an ended build (or a second Solve on its shared session) revives it.
        unit.EndedAt = null;
        if (unit.Stage == BuildStage.Deciding && !TryDecide(unit, force: false) && unit.DecisionTimer is null)
        {
            unit.DecisionTimer = _time.CreateTimer(
                static s =>
                {
                    var (self, waiting) = ((BuildCorrelator, BuildUnit))s!;
                    self.ForceDecide(waiting);
                },
                (this, unit),
                _options.DecisionWait,
                Timeout.InfiniteTimeSpan);
        }

        return new BuildCall(this, unit, kind, record, ticket);
    }

    // A known build joins only calls of its own tenant (anonymous calls only anonymous builds).
    private static BuildUnit? Owned(BuildUnit? unit, in CallOrigin origin, string what, string? id) =>
        unit is null || string.Equals(unit.Origin.Tenant?.AdmissionKey, origin.Tenant?.AdmissionKey, StringComparison.Ordinal)
            ? unit
            : throw new ForeignBuildException($"{what} {id} belongs to another tenant's build; a build's calls must come from the tenant that started it");

    private BuildUnit Create(ClientConnection connection, CallOrigin origin, string? refId, string? sessionId)
    {
        CheckLimits(connection, origin);
        var unit = new BuildUnit(_time.GetTimestamp()) { Connection = connection, Origin = origin };
        _builds.Add(unit, refId, sessionId);
        return unit;
    }

    // A new build of this connection and tenant, or a refusal naming the limit. Builds that ended
    // and wait out their grace make room first (the oldest of the connection, the oldest of all):
    // a late Status finding its builder matters less than a new build starting.
    private void CheckLimits(ClientConnection connection, CallOrigin origin)
    {
        if (connection.Units.Count >= _options.MaxBuildsPerConnection && connection.Units.Find(u => u.EndedAt is not null) is { } ended)
        {
            Forget(ended);
        }

        if (connection.Units.Count >= _options.MaxBuildsPerConnection)
        {
            throw new BuildLimitException($"this connection already has {connection.Units.Count} builds, the gateway's limit (--max-builds-per-connection)");
        }

        var tenant = origin.Tenant?.AdmissionKey ?? origin.ClientIdentity;
        if (tenant is not null && _builds.CountOf(tenant) >= _options.MaxBuildsPerTenant)
        {
            throw new BuildLimitException($"tenant {tenant} already has {_builds.CountOf(tenant)} builds, the gateway's limit (--max-builds-per-tenant)");
        }

        while (_builds.Count >= _options.MaxBuilds && _ended.TryDequeue(out var oldest))
        {
            if (IsCurrent(oldest))
            {
                Forget(oldest.Unit);
            }
        }

        if (_builds.Count >= _options.MaxBuilds)
        {
            throw new BuildLimitException($"the gateway already tracks {_builds.Count} builds, its limit (--max-tracked-builds)");
        }
    }

    // A Solve names a ref (its Status may have arrived) and a session (its Session may have
    // arrived): one build. Where the session already went wins, since that is where the daemon
    // holds it.
    private BuildUnit Merge(BuildUnit byRef, BuildUnit bySession)
    {
        var (survivor, absorbed) = bySession.Route is not null || byRef.Route is null ? (bySession, byRef) : (byRef, bySession);
        _builds.Merge(absorbed, survivor);
        survivor.Absorb(absorbed);
        if (survivor.Route is { } route)
        {
            absorbed.PendingSolves.ForEach(ticket => _admission.Issue(ticket, route));
            if (absorbed.Route is null)
            {
                absorbed.Decision.TrySetResult(route);
                absorbed.Followers.ForEach(f => f.TrySetResult(route));
            }
        }
        else
        {
            survivor.PendingSolves.AddRange(absorbed.PendingSolves);
            survivor.Followers.Add(absorbed.Decision);
            survivor.Followers.AddRange(absorbed.Followers);
            if (survivor.DecisionTimer is null)
            {
                // Keep the earlier deadline: the absorbed calls have been waiting already.
                survivor.DecisionTimer = absorbed.DecisionTimer;
                absorbed.DecisionTimer = null;
            }
        }

        absorbed.PendingSolves.Clear();
        absorbed.Followers.Clear();
        absorbed.DecisionTimer?.Dispose();
        absorbed.DecisionTimer = null;
        return survivor;
    }

    private void ForceDecide(BuildUnit waiting)
    {
        lock (_lock)
        {
            var unit = waiting.Root;
            if (unit.Stage != BuildStage.Routed && unit.ActiveCalls > 0)
            {
                BuildLog.DecisionTimedOut(_logger, _options.DecisionWait.TotalSeconds, string.Join(',', unit.Refs), string.Join(',', unit.Sessions));
                TryDecide(unit, force: true);
            }
        }
    }

    // False while the build waits for a call that may bring a better key.
    private bool TryDecide(BuildUnit unit, bool force)
    {
        if (unit.Stage == BuildStage.Holding)
        {
            // The end of its wait decides.
            return true;
        }

        if (!_facts.TryKey(unit, force, out var chosen))
        {
            return false;
        }

        var facts = _facts.Read(unit, chosen, _time.GetElapsedTime(_clockOrigin));
        var key = facts.Key;
        var decision = BuildRouter.Decide(facts);
        if (decision.Home is { } home && unit.Connection is { } connection)
        {
            connection.LastKeyedBackend = home.Id;
        }

        switch (decision.Verdict)
        {
            case RoutingVerdict.Hold:
                Hold(unit, facts, decision);
                break;
            case RoutingVerdict.Refuse:
                BuildLog.NoBuilder(_logger, key?.Value ?? "-", decision.Reason!);
                SetRoute(unit, new BuildRoute(null, key, decision.Outcome, Failure: decision.Reason, FailureStatus: decision.RefusalStatus));
                break;
            default:
                SetRoute(unit, new BuildRoute(decision.Backend, key, decision.Outcome, decision.FollowedConnection));
                break;
        }

        return true;
    }

    // The one way a build waits, whatever for: the end of the wait decides it again.
    private void Hold(BuildUnit unit, in RoutingFacts facts, RoutingDecision decision)
    {
        var wait = _holds.Begin(unit, facts, decision);
        unit.Stage = BuildStage.Holding;
        unit.HeldFor = decision.Hold;
        unit.HeldOn = decision.Backend?.Id;
        unit.HoldEnd = wait.ContinueWith(
            static (wait, state) =>
            {
                var (self, held, decision) = ((BuildCorrelator, BuildUnit, RoutingDecision))state!;
                self.EndHold(held, decision, wait);
            },
            (this, unit, decision),
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private void EndHold(BuildUnit held, RoutingDecision decision, Task wait)
    {
        lock (_lock)
        {
            _holds.End(held, decision, wait);
            held.Stage = BuildStage.Deciding;
            held.HeldFor = null;
            held.HeldOn = null;
            var unit = held.Root;
            if (unit.Forgotten)
            {
                // Its calls all ended while it waited: nothing is left to route.
                _holds.Release(unit);
                return;
            }

            if (unit != held)
            {
                unit.Holds.Inherit(held.Holds);
            }

            // A merge may have routed the build meanwhile, or be holding it on its own account.
            if (unit.Stage == BuildStage.Deciding)
            {
                TryDecide(unit, force: true);
            }
        }
    }

    private void SetRoute(BuildUnit unit, BuildRoute route) => unit.Routed(route, ticket => _admission.Issue(ticket, route));

    // No call is left: a build whose Solve came is reported and stays known for the grace period,
    // so a late call still finds its builder. Calls that never saw a Solve (reset Sessions, Status
    // calls of refs no Solve named) made no build: kept, they would let a client that never
    // builds fill the gateway.
    private void MaybeEnd(BuildUnit unit)
    {
        if (unit.EndedAt is not null || unit.ActiveCalls > 0)
        {
            return;
        }

        if (unit.Solve is null)
        {
            Forget(unit);
            return;
        }

        var now = _time.GetTimestamp();
        unit.EndedAt = now;
        _ended.Enqueue((unit, now));
        _reports.Report(unit);
        _holds.Release(unit);
    }

    private void Forget(BuildUnit unit)
    {
        unit.Forgotten = true;
        _reports.Report(unit);
        _holds.Release(unit);
        _builds.Remove(unit);
        unit.DecisionTimer?.Dispose();
        unit.DecisionTimer = null;
    }

    // Its build has not been revived, merged or forgotten since it ended.
    private static bool IsCurrent((BuildUnit Unit, long EndedAt) entry) =>
        entry.Unit.EndedAt == entry.EndedAt && entry.Unit.MergedInto is null && !entry.Unit.Forgotten;

    private void Sweep()
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            while (_ended.TryPeek(out var oldest) && _time.GetElapsedTime(oldest.EndedAt, now) >= _options.EndedGrace)
            {
                _ended.Dequeue();
                if (IsCurrent(oldest))
                {
                    Forget(oldest.Unit);
                }
            }
        }
    }
}
