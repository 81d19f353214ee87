namespace BuildPool.BuildKit.Wire;

/// <summary>
/// What the gateway takes from a <c>moby.buildkit.v1.SolveRequest</c>: the ref and session that
/// tie the build's other calls to it, and the two request-borne routing keys.
/// </summary>
/// <param name="Ref">Field 1: the build ref (<c>Status</c> and <c>LLBBridge</c> calls carry it).</param>
/// <param name="Session">Field 5: the session id (the <c>Session</c> stream's uuid header).</param>
/// <param name="ImageName">The first exported image repository, without tag or digest.</param>
/// <param name="CacheRef">The first cache export (else import) registry ref, without tag or digest.</param>
public readonly record struct SolveRequestFields(string? Ref, string? Session, string? ImageName, string? CacheRef)
{
    /// <summary>
    /// Frontend attribute <c>no-cache</c> (field 7): empty when the client asked for <c>--no-cache</c>
    /// (every stage), a comma list of stages for <c>--no-cache-filter</c>; null when it wants the cache.
    /// </summary>
    public string? NoCache { get; init; }
}
