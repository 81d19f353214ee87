using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

// One build as routing sees it: the calls that must reach one builder. Starts as whatever call
// arrives first (a Status names only a ref, a Session only a session id); a Solve names both and
// merges the two. All fields are guarded by the correlator's lock.
internal sealed class BuildUnit(long created)
{
    public BuildUnit? MergedInto { get; set; }

    public List<string> Refs { get; } = [];

    public List<string> Sessions { get; } = [];

    public Dictionary<string, RefRecord> Records { get; } = new(StringComparer.Ordinal);

    public ClientConnection? Connection { get; set; }

    public CallOrigin Origin { get; set; }

    public bool SolveSeen { get; set; }

    public SolveRequestFields Solve { get; set; }

    public bool SessionExpected { get; set; }

    public bool SessionSeen { get; set; }

    public string? SharedKey { get; set; }

    public BuildRoute? Route { get; set; }

    public TaskCompletionSource<BuildRoute> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public List<TaskCompletionSource<BuildRoute>> Followers { get; } = [];

    public List<SolveTicket> PendingSolves { get; } = [];

    public ITimer? DecisionTimer { get; set; }

    // Cold builders: the build waits (Holding) for a stopped builder at most once (Held); after
    // that it spills, or fails with HoldFailure. ColdStart owns the wait.
    public bool Holding { get; set; }

    public bool Held { get; set; }

    public string? HoldFailure { get; set; }

    public Task? ColdStart { get; set; }

    // Overflow forks: when the wait for a free fork began (0: never), and whether it waits now.
    public long ForkWaitStarted { get; set; }

    // Untrusted builds: the one isolated fork they run on, asked for once and released at the end.
    public string? IsolationId { get; set; }

    public string? IsolationBase { get; set; }

    public long IsolationRequestedAt { get; set; }

    public bool IsolationReleased { get; set; }

    // "fork" or "isolated" when the build ran on a fork (the per-build log line and metrics).
    public string? Isolation { get; set; }

    public int ActiveCalls { get; set; }

    public int OpenSolves { get; set; }

    public long Created { get; } = created;

    public long LastActivity { get; set; } = created;

    public bool Retired { get; set; }

    public long RetiredAt { get; set; }

    public RefRecord RecordFor(string reference)
    {
        if (!Records.TryGetValue(reference, out var record))
        {
            record = new RefRecord(reference);
            Records.Add(reference, record);
        }

        return record;
    }
}
