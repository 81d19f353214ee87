using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Admission;

namespace BuildPool.Gateway.Builds;

/// <summary>
/// One call taking part in a build. Wait for the build's route, forward, then dispose: the
/// build ends when its Solve has returned and its other calls are gone, or its connection closed.
/// </summary>
public sealed class BuildCall : IDisposable
{
    private readonly BuildCorrelator _owner;
    private readonly TaskCompletionSource<BuildRoute> _decision;
    private int _disposed;

    internal BuildCall(BuildCorrelator owner, BuildUnit unit, BuildCallKind kind, RefRecord? record, SolveTicket? ticket)
    {
        _owner = owner;
        Unit = unit;
        _decision = unit.Decision;
        Kind = kind;
        Record = record;
        Ticket = ticket;
    }

    public BuildCallKind Kind { get; }

    internal BuildUnit Unit { get; }

    internal RefRecord? Record { get; }

    internal SolveTicket? Ticket { get; }

    /// <summary>The ref's Status stream counter (Status calls), fed with the forwarded response bytes.</summary>
    public StatusTally? Tally => Kind == BuildCallKind.Status ? Record?.Tally : null;

    /// <summary>True once the build is routed (the call does not have to wait).</summary>
    public bool IsRouted => _decision.Task.IsCompleted;

    /// <summary>
    /// The build's route: at once when decided, else when the deciding call arrives, else (after
    /// the correlator's decision wait) routed with what is known.
    /// </summary>
    public Task<BuildRoute> WaitForRouteAsync(CancellationToken cancellationToken) => _decision.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// For a Solve: waits for its admission slot on the routed builder (queued at the routing
    /// decision). Throws <see cref="BuilderAtCapacityException"/> after the queue timeout.
    /// </summary>
    public async Task<AdmissionLease> AdmitAsync()
    {
        var admission = Ticket?.Admission ?? throw new InvalidOperationException("Only a routed Solve call is admitted.");
        var lease = await admission;
        _owner.Admitted(this, lease);
        return lease;
    }

    /// <summary>The Solve is about to be forwarded (its wait ends here); the build's held calls follow it.</summary>
    public void Forwarding()
    {
        _owner.Forwarding(this);
        Record?.Gate.Open();
    }

    /// <summary>
    /// The Solve failed at the gateway (queue timeout, refusal): its held calls end with the same
    /// status instead of reaching a builder that never sees the build.
    /// </summary>
    public void Refused(int grpcStatus, string message) =>
        Record?.EndWithoutForwarding(_owner.Time.GetElapsedTime(Record.SolveArrived), grpcStatus, message);

    /// <summary>
    /// For a Status or LLBBridge call: waits until the build's Solve is forwarded (buildkitd gives
    /// up on such calls after 3 to 6 s if the Solve has not reached it), or ended at the gateway
    /// (then the result carries its status). Other calls go on at once.
    /// </summary>
    public Task<SolveGateResult> WaitForSolveAsync(CancellationToken cancellationToken) =>
        Kind is BuildCallKind.Status or BuildCallKind.Bridge && Record is { } record
            ? record.Gate.WaitAsync(() => record.SolveSeen, _owner.Options.SolveArrivalWait, _owner.Time, cancellationToken)
            : Task.FromResult(SolveGateResult.Forward);

    /// <summary>What the build waits for now, for a person (null: nothing worth showing).</summary>
    public string? DescribeWait() => _owner.DescribeWait(this);

    internal TimeProvider Time => _owner.Time;

    /// <summary>The build ref this call names (null for a Session).</summary>
    public string? Ref => Record?.Ref;

    /// <summary>The Solve's response ended with <paramref name="grpcStatus"/>; frees its slot and load.</summary>
    public void Completed(int grpcStatus) => _owner.SolveCompleted(this, grpcStatus);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Leave(this);
        }
    }
}
