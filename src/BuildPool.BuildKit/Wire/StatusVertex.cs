namespace BuildPool.BuildKit.Wire;

/// <summary>
/// One vertex of a build as its <c>Status</c> stream reported it, merged over all its updates.
/// </summary>
/// <param name="Digest">Vertex field 1: the LLB operation's digest (not a cache key; see BUILDKIT-FACTS).</param>
/// <param name="Name">Field 3, as the frontend wrote it (<c>[2/4] RUN …</c>), cut to <see cref="StatusTally.MaxNameLength"/> characters.</param>
/// <param name="Inputs">Field 2: digests of the vertexes it reads (at most <see cref="StatusTally.MaxInputs"/>).</param>
/// <param name="Cached">Some update reported it cached (field 4).</param>
/// <param name="Started">Field 5, the earliest reported.</param>
/// <param name="Completed">Field 6, the latest reported.</param>
/// <param name="Failed">Some update carried an error (field 7).</param>
public sealed record StatusVertex(
    string Digest,
    string Name,
    IReadOnlyList<string> Inputs,
    bool Cached,
    DateTimeOffset? Started,
    DateTimeOffset? Completed,
    bool Failed)
{
    /// <summary>How long it ran: started to completed; zero when either is missing.</summary>
    public TimeSpan Duration => Started is { } s && Completed is { } c && c > s ? c - s : TimeSpan.Zero;
}
