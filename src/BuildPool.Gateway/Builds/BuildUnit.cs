using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

// One build as routing sees it: the calls that must reach one builder. Starts as whatever call
// arrives first (a Status names only a ref, a Session only a session id); a Solve names both and
// merges the two. All fields are guarded by the correlator's lock.
internal sealed class BuildUnit(long created)
{
    public BuildUnit? MergedInto { get; set; }

    // The build this one was merged into, through every later merge (itself when it never was).
    public BuildUnit Root
    {
        get
        {
            var unit = this;
            while (unit.MergedInto is { } next)
            {
                unit = next;
            }

            return unit;
        }
    }

    public List<string> Refs { get; } = [];

    public List<string> Sessions { get; } = [];

    public Dictionary<string, RefRecord> Records { get; } = new(StringComparer.Ordinal);

    public ClientConnection? Connection { get; set; }

    public CallOrigin Origin { get; init; }

    // Whom the per-tenant build cap counts it under: its tenant, else its client certificate
    // identity; null for an anonymous client (bounded per connection).
    public string? TenantKey => Origin.Tenant?.AdmissionKey ?? Origin.ClientIdentity;

    // Removed from the correlator's books (ended and past its grace, or never saw a Solve).
    public bool Forgotten { get; set; }

    // What its calls offered so far: the first Solve's fields (null until a Solve came), and
    // whether its Session came, with which shared key.
    public SolveRequestFields? Solve { get; set; }

    public bool SessionSeen { get; set; }

    public string? SharedKey { get; set; }

    public BuildStage Stage { get; set; }

    // Set when the build is routed (a route without a builder is a refusal).
    public BuildRoute? Route { get; set; }

    public TaskCompletionSource<BuildRoute> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public List<TaskCompletionSource<BuildRoute>> Followers { get; } = [];

    public List<SolveTicket> PendingSolves { get; } = [];

    public ITimer? DecisionTimer { get; set; }

    // While Holding: the end of its wait, which decides the build again (owned here, never dropped).
    public Task? HoldEnd { get; set; }

    public HoldRecord Holds { get; } = new();

    // While Holding: what for and on which builder, for the progress a held Status shows.
    public BuildHoldKind? HeldFor { get; set; }

    public string? HeldOn { get; set; }

    public int ActiveCalls { get; set; }

    public int OpenSolves { get; set; }

    public long Created { get; } = created;

    public long LastActivity { get; set; } = created;

    // When its calls ended (its Solves returned, or its connection closed); null while it has calls.
    public long? EndedAt { get; set; }

    // Whether the build has offered what a key source reads: a Solve's image and cache refs come
    // with the Solve, the session directory with the Session (or a Solve that names no session).
    public bool Knows(RoutingKeySource source) => source switch
    {
        RoutingKeySource.ImageName or RoutingKeySource.CacheRef => Solve is not null,
        RoutingKeySource.SessionDirectory => SessionSeen || (Solve is { } solve && string.IsNullOrEmpty(solve.Session)),
        _ => true,
    };

    // A Solve of this build arrived: its ref's record and its share of a builder. A second Solve
    // on one session (a shared session) follows the first one's route.
    public (RefRecord Record, SolveTicket Ticket) AddSolve(SolveRequestFields fields, Tenants.TenantInfo? tenant, CancellationToken aborted, long now)
    {
        Solve ??= fields;
        var record = string.IsNullOrEmpty(fields.Ref) ? new RefRecord(string.Empty) : RecordFor(fields.Ref);
        record.SolveSeen = true;
        record.SolveArrived = now;
        var ticket = new SolveTicket(aborted) { Tenant = tenant };
        record.Ticket = ticket;
        OpenSolves++;
        return (record, ticket);
    }

    // Decided: every waiting call and Solve goes on (a route without a builder is a refusal).
    public void Routed(BuildRoute route, Action<SolveTicket> issue)
    {
        Stage = BuildStage.Routed;
        Route = route;
        DecisionTimer?.Dispose();
        DecisionTimer = null;
        PendingSolves.ForEach(issue);
        PendingSolves.Clear();
        Decision.TrySetResult(route);
        Followers.ForEach(f => f.TrySetResult(route));
        Followers.Clear();
    }

    public RefRecord RecordFor(string reference)
    {
        if (!Records.TryGetValue(reference, out var record))
        {
            record = new RefRecord(reference);
            Records.Add(reference, record);
        }

        return record;
    }

    // A merge: this build takes over what the absorbed one knew and counted. Its waiting calls
    // and Solves the correlator moves, since they depend on whether this one is routed.
    public void Absorb(BuildUnit absorbed)
    {
        Refs.AddRange(absorbed.Refs);
        Sessions.AddRange(absorbed.Sessions);
        foreach (var (id, record) in absorbed.Records)
        {
            Records.TryAdd(id, record);
        }

        Solve ??= absorbed.Solve;
        if (absorbed.SessionSeen && !SessionSeen)
        {
            SessionSeen = true;
            SharedKey = absorbed.SharedKey;
        }

        ActiveCalls += absorbed.ActiveCalls;
        OpenSolves += absorbed.OpenSolves;
        LastActivity = Math.Max(LastActivity, absorbed.LastActivity);
        EndedAt = null;
    }
}
