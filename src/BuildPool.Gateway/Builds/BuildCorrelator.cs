using System.Collections.Concurrent;
using BuildPool.Api.Units;
using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Isolation;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tenants;
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
/// Builds are rare next to frames, so one lock guards all of this; it also makes a decision and
/// its load count one step, which bounded-load placement needs under concurrency.
/// </remarks>
public sealed class BuildCorrelator : IDisposable
{
    private const int RecentCapacity = 1024;

    private readonly KeyExtractor _extractor;
    private readonly Placement _placement;
    private readonly AdmissionController _admission;
    private readonly BuildCorrelatorOptions _options;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly IBuilderStarter? _starter;
    private readonly TenantAdmission? _tenants;
    private readonly IForkRequester? _forks;
    private readonly ForkRouting? _forkRouting;
    private readonly IsolationPolicy? _isolation;
    private readonly Dictionary<string, int> _forkWaiters = new(StringComparer.Ordinal);
    private int _forkWaiting;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, BuildUnit> _byRef = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BuildUnit> _bySession = new(StringComparer.Ordinal);
    private readonly HashSet<BuildUnit> _units = [];
    private readonly ConcurrentQueue<BuildSummary> _recent = new();
    private readonly ITimer _sweeper;

    public BuildCorrelator(
        KeyExtractor extractor,
        Placement placement,
        AdmissionController admission,
        BuildCorrelatorOptions? options = null,
        TimeProvider? timeProvider = null,
        GatewayMetrics? metrics = null,
        ILogger<BuildCorrelator>? logger = null,
        IBuilderStarter? starter = null,
        TenantAdmission? tenants = null,
        IForkRequester? forks = null,
        IsolationPolicy? isolation = null)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(admission);
        _extractor = extractor;
        _placement = placement;
        _admission = admission;
        _options = options ?? new BuildCorrelatorOptions();
        _time = timeProvider ?? TimeProvider.System;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _starter = starter;
        _tenants = tenants;
        _forks = forks;
        _forkRouting = forks is null ? null : new ForkRouting(placement, admission, forks);
        _isolation = isolation;
        var sweep = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, Math.Min(_options.EndedGrace.Ticks, _options.IdleTtl.Ticks) / 2));
        _sweeper = _time.CreateTimer(static s => ((BuildCorrelator)s!).Sweep(), this, sweep, sweep);
    }

    /// <summary>Builds the gateway currently remembers (running, waiting, or ended within the grace period).</summary>
    public int TrackedBuilds
    {
        get
        {
            lock (_lock)
            {
                return _units.Count;
            }
        }
    }

    /// <summary>The last finished builds, oldest first (at most 1,024).</summary>
    public IReadOnlyList<BuildSummary> RecentBuilds => [.. _recent];

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
                MaybeRetire(Root(unit));
            }
        }
    }

    /// <summary>A <c>Control/Session</c> call with its uuid and shared-key headers.</summary>
    public BuildCall JoinSession(string sessionId, string? sharedKey, ClientConnection connection, CallOrigin origin)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        lock (_lock)
        {
            var unit = Lookup(_bySession, sessionId) ?? Create(connection, origin, refId: null, sessionId);
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
            var byRef = string.IsNullOrEmpty(fields.Ref) ? null : Lookup(_byRef, fields.Ref);
            var bySession = string.IsNullOrEmpty(fields.Session) ? null : Lookup(_bySession, fields.Session);
            var unit = (byRef, bySession) switch
            {
                (null, null) => Create(connection, origin, fields.Ref, fields.Session),
                (not null, null) => byRef,
                (null, not null) => bySession,
                _ => byRef == bySession ? byRef : Merge(byRef, bySession),
            };
            Register(unit, fields.Ref, fields.Session);
            if (!unit.SolveSeen)
            {
                // A second Solve on one session (a shared session) follows the first one's route.
                unit.SolveSeen = true;
                unit.Solve = fields;
                unit.SessionExpected = !string.IsNullOrEmpty(fields.Session);
            }

            var record = string.IsNullOrEmpty(fields.Ref) ? new RefRecord(string.Empty) : unit.RecordFor(fields.Ref);
            record.SolveSeen = true;
            record.SolveArrived = _time.GetTimestamp();
            var ticket = new SolveTicket(aborted) { Tenant = origin.Tenant };
            unit.OpenSolves++;
            if (unit.Route is { } route)
            {
                Issue(ticket, route);
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
            var unit = Lookup(_byRef, reference) ?? Create(connection, origin, reference, sessionId: null);
            return Enter(unit, kind, unit.RecordFor(reference), ticket: null);
        }
    }

    internal void Admitted(BuildCall call, AdmissionLease lease)
    {
        if (call.Record is { } record)
        {
            record.QueueWait = lease.QueueWait;
        }

        _metrics?.QueueWait.Record(lease.QueueWait.TotalSeconds);
        _metrics?.ActiveBuilds.Add(1, new KeyValuePair<string, object?>("backend", lease.BackendId));
    }

    internal void Forwarding(BuildCall call)
    {
        if (call.Record is { } record)
        {
            record.SolveForwarded = _time.GetTimestamp();
        }
    }

    internal void SolveCompleted(BuildCall call, int grpcStatus)
    {
        if (call.Record is { } record)
        {
            record.SolveEnded = _time.GetTimestamp();
            record.GrpcStatus = grpcStatus;
        }

        if (call.Ticket is { Admission.IsCompletedSuccessfully: true } ticket)
        {
            _metrics?.ActiveBuilds.Add(-1, new KeyValuePair<string, object?>("backend", ticket.Admission.Result.BackendId));
        }

        call.Ticket?.Release();
        // A build waiting for a fork of a full Private volume takes the volume's freed slot instead.
        if (_forks is not null && Volatile.Read(ref _forkWaiting) > 0)
        {
            _forks.Wake();
        }
    }

    internal void Leave(BuildCall call)
    {
        lock (_lock)
        {
            var unit = Root(call.Unit);
            unit.ActiveCalls--;
            unit.LastActivity = _time.GetTimestamp();
            if (call.Ticket is { } ticket)
            {
                unit.OpenSolves--;
                unit.PendingSolves.Remove(ticket);
                ticket.Release();
            }

            MaybeRetire(unit);
        }
    }

    public void Dispose() => _sweeper.Dispose();

    private BuildCall Enter(BuildUnit unit, BuildCallKind kind, RefRecord? record, SolveTicket? ticket)
    {
        unit.ActiveCalls++;
        unit.LastActivity = _time.GetTimestamp();
        if (unit.Retired)
        {
            // A late call of an ended build (or a second Solve on its shared session).
            unit.Retired = false;
        }

        if (unit.Route is null && !TryDecide(unit, force: false) && unit.DecisionTimer is null)
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

    private BuildUnit? Lookup(Dictionary<string, BuildUnit> map, string id) =>
        map.TryGetValue(id, out var unit) ? Root(unit) : null;

    private static BuildUnit Root(BuildUnit unit)
    {
        while (unit.MergedInto is { } next)
        {
            unit = next;
        }

        return unit;
    }

    private BuildUnit Create(ClientConnection connection, CallOrigin origin, string? refId, string? sessionId)
    {
        var unit = new BuildUnit(_time.GetTimestamp()) { Connection = connection, Origin = origin };
        connection.Units.Add(unit);
        _units.Add(unit);
        Register(unit, refId, sessionId);
        return unit;
    }

    private void Register(BuildUnit unit, string? refId, string? sessionId)
    {
        if (!string.IsNullOrEmpty(refId) && !(_byRef.TryGetValue(refId, out var r) && Root(r) == unit))
        {
            _byRef[refId] = unit;
            unit.Refs.Add(refId);
        }

        if (!string.IsNullOrEmpty(sessionId) && !(_bySession.TryGetValue(sessionId, out var s) && Root(s) == unit))
        {
            _bySession[sessionId] = unit;
            unit.Sessions.Add(sessionId);
        }
    }

    // A Solve names a ref (its Status may have arrived) and a session (its Session may have
    // arrived): one build. Where the session already went wins, since that is where the daemon
    // holds it.
    private BuildUnit Merge(BuildUnit byRef, BuildUnit bySession)
    {
        var (survivor, absorbed) = bySession.Route is not null || byRef.Route is null ? (bySession, byRef) : (byRef, bySession);
        absorbed.MergedInto = survivor;
        _units.Remove(absorbed);
        absorbed.Connection?.Units.Remove(absorbed);
        foreach (var id in absorbed.Refs)
        {
            _byRef[id] = survivor;
            survivor.Refs.Add(id);
        }

        foreach (var id in absorbed.Sessions)
        {
            _bySession[id] = survivor;
            survivor.Sessions.Add(id);
        }

        foreach (var (id, record) in absorbed.Records)
        {
            survivor.Records.TryAdd(id, record);
        }

        if (absorbed.SolveSeen && !survivor.SolveSeen)
        {
            survivor.SolveSeen = true;
            survivor.Solve = absorbed.Solve;
            survivor.SessionExpected = absorbed.SessionExpected;
        }

        if (absorbed.SessionSeen && !survivor.SessionSeen)
        {
            survivor.SessionSeen = true;
            survivor.SharedKey = absorbed.SharedKey;
        }

        survivor.ActiveCalls += absorbed.ActiveCalls;
        survivor.OpenSolves += absorbed.OpenSolves;
        survivor.LastActivity = Math.Max(survivor.LastActivity, absorbed.LastActivity);
        survivor.Retired = false;

        if (survivor.Route is { } route)
        {
            foreach (var ticket in absorbed.PendingSolves)
            {
                Issue(ticket, route);
            }

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
            var unit = Root(waiting);
            if (unit.Route is null && unit.ActiveCalls > 0)
            {
                BuildLog.DecisionTimedOut(_logger, _options.DecisionWait.TotalSeconds, string.Join(',', unit.Refs), string.Join(',', unit.Sessions));
                TryDecide(unit, force: true);
            }
        }
    }

    private bool TryDecide(BuildUnit unit, bool force)
    {
        if (unit.Holding)
        {
            // Its builder is starting; the end of that wait decides.
            return true;
        }

        var sources = _extractor.Sources;
        var firstUnknown = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (!IsKnown(unit, sources[i]))
            {
                firstUnknown = i;
                break;
            }
        }

        var sessionKnown = IsKnown(unit, RoutingKeySource.SessionDirectory);
        var inputs = new KeyInputs
        {
            Authority = unit.Origin.Authority,
            ServerName = unit.Origin.ServerName,
            ClientIdentity = unit.Origin.ClientIdentity,
            Solve = unit.SolveSeen ? unit.Solve : default,
            SessionSharedKey = sessionKnown ? unit.SharedKey : null,
        };
        RoutingKey? key = _extractor.TryExtract(inputs, out var found) ? found : null;
        if (!force && firstUnknown >= 0 && (key is null || IndexOf(sources, key.Value.Source) > firstUnknown))
        {
            // A source ranked above the best key so far may still come with a later call.
            return false;
        }

        if ((key is { } k ? PlaceKeyed(unit, k) : PlaceKeylessChecked(unit)) is { } route)
        {
            SetRoute(unit, route);
        }

        return true;
    }

    private static int IndexOf(IReadOnlyList<RoutingKeySource> sources, RoutingKeySource source)
    {
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] == source)
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsKnown(BuildUnit unit, RoutingKeySource source) => source switch
    {
        RoutingKeySource.ImageName or RoutingKeySource.CacheRef => unit.SolveSeen,
        RoutingKeySource.SessionDirectory => unit.SessionSeen || (unit.SolveSeen && !unit.SessionExpected),
        _ => true,
    };

    // Null while the build waits for its cold builder (see Hold).
    private BuildRoute? PlaceKeyed(BuildUnit unit, RoutingKey key)
    {
        var decision = _placement.Place(key.Value);
        if (_isolation?.UntrustedBecause(key.Value, unit.Origin.ClientIdentity, unit.Origin.Tenant) is { } untrusted)
        {
            return PlaceIsolated(unit, key, decision, untrusted);
        }

        if (_starter is not null && !unit.Held && WaitsForStart(decision))
        {
            Hold(unit, key, decision);
            return null;
        }

        if (decision.NeedsStart)
        {
            // Nobody can start the builder (static discovery) or it did not start in time: go to
            // the next one on the ring instead.
            decision = _placement.Place(key.Value, allowStopped: false);
        }

        if (decision.Backend is not { State: BackendState.Ready } backend)
        {
            var reason = unit.HoldFailure ?? (decision.Outcome == PlacementOutcome.AwaitingVolume
                ? $"no cache volume serves key {key.Value} yet"
                : $"no ready builder for key {key.Value}");
            BuildLog.NoBuilder(_logger, key.Value, reason);
            return new BuildRoute(null, key, decision.Outcome, Failure: reason);
        }

        if (unit.Connection is { } connection)
        {
            connection.LastKeyedBackend = backend.Id;
        }

        if (_forkRouting is not null && backend.ForksOnOverflow && _forkRouting.WouldQueue(backend.Id))
        {
            if (_forkRouting.FreeFork(backend.Id) is { } fork)
            {
                unit.Isolation = "fork";
                return new BuildRoute(fork, key, PlacementOutcome.Forked);
            }

            if (_forkRouting.ForkPending(backend.Id) && HoldForFork(unit, backend.Id))
            {
                return null;
            }
        }

        return new BuildRoute(backend, key, decision.Outcome);
    }

    // A Private volume at capacity: the build waits (up to startTimeout in all) for a free fork,
    // a free slot on the volume, or for it to be clear that no fork will come; then it decides again.
    private bool HoldForFork(BuildUnit unit, string baseId)
    {
        var now = _time.GetTimestamp();
        if (unit.ForkWaitStarted == 0)
        {
            unit.ForkWaitStarted = now;
        }

        var remaining = _forks!.StartTimeout - _time.GetElapsedTime(unit.ForkWaitStarted, now);
        if (remaining <= TimeSpan.Zero)
        {
            return false;
        }

        var waiting = _forkWaiters.GetValueOrDefault(baseId) + 1;
        _forkWaiters[baseId] = waiting;
        Interlocked.Increment(ref _forkWaiting);
        _forks.RequestOverflow(baseId, _forkRouting!.WantedForks(baseId, waiting));
        unit.Holding = true;
        var routing = _forkRouting;
        var wait = _forks.WaitAsync(() => routing.FreeFork(baseId) is not null || !routing.WouldQueue(baseId) || !routing.ForkPending(baseId), remaining);
        unit.ColdStart = wait.ContinueWith(
            static (_, state) =>
            {
                var (self, held, id) = ((BuildCorrelator, BuildUnit, string))state!;
                self.EndForkHold(held, id);
            },
            (this, unit, baseId),
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
        return true;
    }

    // An untrusted build: its own isolated fork of the key's volume, or a clear failure. It never
    // falls back to the volume's builder or any other that trusted builds use.
    private BuildRoute? PlaceIsolated(BuildUnit unit, RoutingKey key, PlacementDecision decision, string why)
    {
        if (_forkRouting is null)
        {
            return Refuse($"untrusted build ({why}) for key {key.Value}: isolated forks need pool mode (--pool); untrusted builds never run on a shared builder");
        }

        if (unit.IsolationBase is null)
        {
            if (decision.Backend is not { } baseBackend)
            {
                if (_starter is not null && !unit.Held && decision.Outcome == PlacementOutcome.AwaitingVolume)
                {
                    // A Dedicated key without its volume yet: the fork needs the volume first.
                    Hold(unit, key, decision);
                    return null;
                }

                return Refuse($"untrusted build ({why}) for key {key.Value}: no cache volume to fork ({unit.HoldFailure ?? "none serves the key"})");
            }

            unit.IsolationBase = baseBackend.ForkOf ?? baseBackend.Id;
            unit.IsolationId = NewBuildId();
        }

        if (_forkRouting.IsolatedFork(unit.IsolationId!) is { State: BackendState.Ready } fork)
        {
            unit.Isolation = "isolated";
            return new BuildRoute(fork, key, PlacementOutcome.Isolated);
        }

        var now = _time.GetTimestamp();
        if (unit.IsolationRequestedAt == 0)
        {
            unit.IsolationRequestedAt = now;
            _forks!.RequestIsolated(unit.IsolationBase, unit.IsolationId!);
            BuildLog.Isolating(_logger, key.Value, why, unit.IsolationBase, unit.IsolationId!);
        }

        var remaining = _forks!.StartTimeout - _time.GetElapsedTime(unit.IsolationRequestedAt, now);
        if (remaining <= TimeSpan.Zero)
        {
            return Refuse($"untrusted build ({why}) for key {key.Value}: its isolated fork of volume {unit.IsolationBase} was not ready within {GoDuration.Format(_forks.StartTimeout)}; untrusted builds never fall back to a shared builder");
        }

        unit.Holding = true;
        var routing = _forkRouting;
        var id = unit.IsolationId!;
        var wait = _forks.WaitAsync(() => routing.IsolatedFork(id) is { State: BackendState.Ready }, remaining);
        unit.ColdStart = wait.ContinueWith(
            static (_, state) =>
            {
                var (self, held) = ((BuildCorrelator, BuildUnit))state!;
                self.EndForkHold(held, null);
            },
            (this, unit),
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
        return null;

        BuildRoute Refuse(string reason)
        {
            BuildLog.NoBuilder(_logger, key.Value, reason);
            return new BuildRoute(null, key, PlacementOutcome.Unavailable, Failure: reason);
        }
    }

    private void EndForkHold(BuildUnit held, string? baseId)
    {
        lock (_lock)
        {
            held.Holding = false;
            if (baseId is not null)
            {
                Interlocked.Decrement(ref _forkWaiting);
                if (_forkWaiters.TryGetValue(baseId, out var waiting) && waiting > 1)
                {
                    _forkWaiters[baseId] = waiting - 1;
                }
                else
                {
                    _forkWaiters.Remove(baseId);
                }
            }

            var unit = Root(held);
            if (unit != held)
            {
                unit.IsolationBase ??= held.IsolationBase;
                unit.IsolationId ??= held.IsolationId;
                if (unit.IsolationRequestedAt == 0)
                {
                    unit.IsolationRequestedAt = held.IsolationRequestedAt;
                }

                unit.ForkWaitStarted = Math.Max(unit.ForkWaitStarted, held.ForkWaitStarted);
            }

            if (unit.Route is null && !unit.Holding)
            {
                TryDecide(unit, force: true);
            }
        }
    }

    private static string NewBuildId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(5));

    // The build's isolated fork is discarded with it: the operator drains and deletes it.
    private void ReleaseIsolation(BuildUnit unit)
    {
        if (unit.IsolationRequestedAt != 0 && !unit.IsolationReleased && unit.IsolationBase is { } baseId && unit.IsolationId is { } id)
        {
            unit.IsolationReleased = true;
            _forks?.ReleaseIsolated(baseId, id);
        }
    }

    // A stopped builder, a Dedicated key without its volume yet, or a Dedicated volume that is
    // restarting: worth waiting for, since its cache is where the build is fast.
    private static bool WaitsForStart(PlacementDecision decision) =>
        decision.NeedsStart
        || decision.Outcome == PlacementOutcome.AwaitingVolume
        || (decision.Outcome == PlacementOutcome.Unavailable && decision.Backend is not null);

    // Once per build: the starter asks for the builder and completes when it is ready or the
    // start timeout passed; then the build is placed again, spilling past a still stopped builder.
    private void Hold(BuildUnit unit, RoutingKey key, PlacementDecision decision)
    {
        unit.Holding = true;
        unit.Held = true;
        unit.ColdStart = _starter!.WaitForBuilderAsync(_placement, key.Value, decision).ContinueWith(
            static (wait, state) =>
            {
                var (self, held) = ((BuildCorrelator, BuildUnit))state!;
                self.EndHold(held, wait);
            },
            (this, unit),
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private void EndHold(BuildUnit held, Task<string?> wait)
    {
        lock (_lock)
        {
            held.Holding = false;
            held.HoldFailure = wait.IsCompletedSuccessfully ? wait.Result : "waiting for the builder to start failed";
            var unit = Root(held);
            if (unit != held)
            {
                unit.HoldFailure ??= held.HoldFailure;
                unit.Held = true;
            }

            // A merge may have routed the build meanwhile, or be holding it on its own account.
            if (unit.Route is null && !unit.Holding)
            {
                TryDecide(unit, force: true);
            }
        }
    }

    // A keyless build of an untrusted client has no volume to fork, and every builder it could
    // reach serves trusted builds: it is refused rather than placed.
    private BuildRoute PlaceKeylessChecked(BuildUnit unit)
    {
        if (_isolation?.UntrustedBecause(null, unit.Origin.ClientIdentity, unit.Origin.Tenant) is { } why)
        {
            var reason = $"untrusted build ({why}) without a routing key: untrusted builds run only on an isolated fork of their key's volume";
            BuildLog.NoBuilder(_logger, "-", reason);
            return new BuildRoute(null, null, PlacementOutcome.Unavailable, Failure: reason);
        }

        return PlaceKeyless(unit);
    }

    private BuildRoute PlaceKeyless(BuildUnit unit)
    {
        // Probe builds carry no key; beside the connection's last keyed build they find its cache.
        if (unit.Connection?.LastKeyedBackend is { } last)
        {
            foreach (var backend in _placement.Backends)
            {
                if (backend.Id == last && backend.State == BackendState.Ready && backend.ForkOf is null)
                {
                    return new BuildRoute(backend, null, PlacementOutcome.Any, FollowedConnection: true);
                }
            }
        }

        var decision = _placement.PlaceAny();
        return decision.Backend is { } any
            ? new BuildRoute(any, null, PlacementOutcome.Any)
            : new BuildRoute(null, null, PlacementOutcome.Unavailable, Failure: "no ready builder");
    }

    private void SetRoute(BuildUnit unit, BuildRoute route)
    {
        unit.Route = route;
        unit.DecisionTimer?.Dispose();
        unit.DecisionTimer = null;
        foreach (var ticket in unit.PendingSolves)
        {
            Issue(ticket, route);
        }

        unit.PendingSolves.Clear();
        unit.Decision.TrySetResult(route);
        foreach (var follower in unit.Followers)
        {
            follower.TrySetResult(route);
        }

        unit.Followers.Clear();
    }

    // Under the lock, in the same step as the decision: the next decision sees this load.
    private void Issue(SolveTicket ticket, BuildRoute route)
    {
        if (route.Backend is not { } backend)
        {
            return;
        }

        ticket.Load = _placement.Track(backend.Id);
        _starter?.Used(backend.Id);
        ticket.Admission = _tenants is null
            ? _admission.AcquireAsync(backend.Id, ticket.Aborted).AsTask()
            : _tenants.AdmitAsync(ticket.Tenant, BuilderSlot(backend.Id), ticket.Aborted);
        _metrics?.BuildsRouted.Add(
            1,
            new KeyValuePair<string, object?>("key_source", route.KeySourceLabel),
            new KeyValuePair<string, object?>("backend", backend.Id));
        if (route.Outcome == PlacementOutcome.Isolated)
        {
            _metrics?.BuildsIsolated.Add(1, new KeyValuePair<string, object?>("volume", backend.ForkOf));
        }
        else if (route.Outcome == PlacementOutcome.Forked)
        {
            _metrics?.BuildsForked.Add(1, new KeyValuePair<string, object?>("volume", backend.ForkOf));
        }
    }

    private Func<CancellationToken, ValueTask<AdmissionLease>> BuilderSlot(string backendId) =>
        aborted => _admission.AcquireAsync(backendId, aborted);

    private void MaybeRetire(BuildUnit unit)
    {
        if (unit.Retired || unit.ActiveCalls > 0)
        {
            return;
        }

        if (unit.Connection is { Closed: true } || (unit.SolveSeen && unit.OpenSolves == 0))
        {
            unit.Retired = true;
            unit.RetiredAt = _time.GetTimestamp();
            Report(unit);
            ReleaseIsolation(unit);
        }
    }

    private void Report(BuildUnit unit)
    {
        foreach (var record in unit.Records.Values)
        {
            if (record.Reported || !record.SolveSeen)
            {
                continue;
            }

            record.Reported = true;
            var route = unit.Route;
            var ended = record.SolveEnded != 0 ? record.SolveEnded : _time.GetTimestamp();
            var forwarded = record.SolveForwarded != 0 ? record.SolveForwarded : ended;
            var cached = record.Tally.CachedSteps;
            var total = record.Tally.TotalSteps;
            var summary = new BuildSummary(
                record.Ref,
                route?.Key?.Value,
                route?.KeySourceLabel ?? "None",
                route?.Backend?.Id,
                _time.GetElapsedTime(record.SolveArrived, forwarded),
                record.QueueWait,
                _time.GetElapsedTime(record.SolveArrived, ended),
                cached,
                total,
                record.GrpcStatus,
                unit.Origin.Tenant?.Identity)
            {
                Isolation = unit.Isolation ?? BuildSummary.Trusted,
            };
            _recent.Enqueue(summary);
            while (_recent.Count > RecentCapacity && _recent.TryDequeue(out _))
            {
            }

            if (total > 0)
            {
                _metrics?.Steps.Add(cached, new KeyValuePair<string, object?>("cached", "true"));
                _metrics?.Steps.Add(total - cached, new KeyValuePair<string, object?>("cached", "false"));
            }

            BuildLog.BuildEnded(
                _logger,
                summary.Ref,
                summary.Tenant ?? "-",
                summary.Key ?? "-",
                summary.KeySource,
                summary.Backend ?? "-",
                summary.Isolation,
                summary.Wait.TotalMilliseconds,
                summary.QueueWait.TotalMilliseconds,
                summary.Duration.TotalMilliseconds,
                cached,
                total,
                summary.GrpcStatus);
        }
    }

    private void Sweep()
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            List<BuildUnit>? expired = null;
            foreach (var unit in _units)
            {
                var ended = unit.Retired && _time.GetElapsedTime(unit.RetiredAt, now) >= _options.EndedGrace;
                var idle = !unit.Retired && unit.ActiveCalls == 0 && _time.GetElapsedTime(unit.LastActivity, now) >= _options.IdleTtl;
                if (ended || idle)
                {
                    (expired ??= []).Add(unit);
                }
            }

            foreach (var unit in expired ?? [])
            {
                Report(unit);
                ReleaseIsolation(unit);
                _units.Remove(unit);
                unit.Connection?.Units.Remove(unit);
                unit.DecisionTimer?.Dispose();
                foreach (var id in unit.Refs)
                {
                    if (_byRef.TryGetValue(id, out var owner) && Root(owner) == unit)
                    {
                        _byRef.Remove(id);
                    }
                }

                foreach (var id in unit.Sessions)
                {
                    if (_bySession.TryGetValue(id, out var owner) && Root(owner) == unit)
                    {
                        _bySession.Remove(id);
                    }
                }
            }
        }
    }
}
