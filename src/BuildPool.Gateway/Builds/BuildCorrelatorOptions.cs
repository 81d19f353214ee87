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

    /// <summary>
    /// How long an ended build stays known, so a late call of it (a Status reader) still reaches
    /// its builder. Only builds whose Solve arrived: calls that end without one (a reset Session,
    /// a Status of a ref no Solve named) are forgotten when the last of them ends.
    /// </summary>
    public TimeSpan EndedGrace { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Builds one client connection may have tracked at once, running or ended within
    /// <see cref="EndedGrace"/> (<c>--max-builds-per-connection</c>); a call that would start
    /// another is refused with <c>RESOURCE_EXHAUSTED</c>. buildx runs one build per connection,
    /// <c>buildx bake</c> one per target.
    /// </summary>
    public int MaxBuildsPerConnection { get; init; } = 256;

    /// <summary>
    /// Builds one tenant (client certificate identity) may have tracked at once over all its
    /// connections (<c>--max-builds-per-tenant</c>). Anonymous clients are bounded per connection only.
    /// </summary>
    public int MaxBuildsPerTenant { get; init; } = 1_000;

    /// <summary>Builds the gateway tracks at once over all clients (<c>--max-tracked-builds</c>).</summary>
    public int MaxBuilds { get; init; } = 10_000;

    /// <summary>The pool's name (<c>--pool</c>), the <c>pool</c> label of the build metrics; null (label <c>static</c>) with static backends.</summary>
    public string? Pool { get; init; }
}
