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

    /// <summary>
    /// A fork: the volume this builder's cache was cloned from. Forks are never on the ring and
    /// pin no keys, so placement never picks one by itself: only fork routing sends builds of the
    /// base's keys here (overflow), or one untrusted build (<see cref="IsolatedFor"/>).
    /// </summary>
    public string? ForkOf { get; init; }

    /// <summary>An isolated fork: the id of the one untrusted build it serves.</summary>
    public string? IsolatedFor { get; init; }

    /// <summary>A Private volume: when its builder is at capacity, builds go to (or wait for) its overflow forks.</summary>
    public bool ForksOnOverflow { get; init; }
}
