namespace BuildPool.Gateway.Builds;

/// <summary>Timing of build correlation.</summary>
public sealed record BuildCorrelatorOptions
{
    /// <summary>
    /// How long a call that cannot be routed yet (a Status before its Solve, a Session whose
    /// Solve may carry a better key) waits for the call that decides; afterwards the build is
    /// routed with what is known. Bounded so a call whose partner never comes cannot hang.
    /// </summary>
    public TimeSpan DecisionWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a build's Status or LLBBridge call waits for its Solve to arrive before it is
    /// forwarded anyway (a Status of a build this gateway never saw). Once the Solve arrived, its
    /// other calls wait for as long as it waits: until it is forwarded, or fails in the queue.
    /// </summary>
    public TimeSpan SolveArrivalWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an ended build stays known, so a late call of it (a Status reader) still reaches its builder.</summary>
    public TimeSpan EndedGrace { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A build with no call running and no activity for this long is forgotten (its client vanished).</summary>
    public TimeSpan IdleTtl { get; init; } = TimeSpan.FromMinutes(10);
}
