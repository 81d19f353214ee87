namespace BuildPool.Gateway.Routing;

/// <summary>One builder (one cache volume) as placement sees it.</summary>
/// <param name="Id">The CacheVolume name (or the <c>--backend</c> name); the ring hashes it, so it must be stable.</param>
/// <param name="State">Whether it takes new builds.</param>
public sealed record Backend(string Id, BackendState State = BackendState.Ready)
{
    /// <summary>Share of the ring relative to other builders; 1 unless volumes differ in size.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>
    /// Keys pinned to this volume (CacheVolume <c>spec.keys</c>); in <see cref="AssignmentMode.Dedicated"/>
    /// mode, the keys this volume was created for.
    /// </summary>
    public IReadOnlyList<string> Keys { get; init; } = [];

    /// <summary>
    /// False for a hand-made volume that only serves its pinned keys: it then stays off the ring,
    /// so hashed keys never land on it.
    /// </summary>
    public bool AcceptsHashedKeys { get; init; } = true;
}
