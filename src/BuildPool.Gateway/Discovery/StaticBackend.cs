using System.Net;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// One builder given on the command line (<c>--backend name=tcp://host:port[,option=value…]</c>):
/// one cache volume and the daemon that serves it.
/// </summary>
/// <param name="Name">The volume name; the ring hashes it, so it must stay the same across restarts.</param>
/// <param name="EndPoint">Where the daemon listens (buildkitd <c>--addr tcp://…</c>).</param>
public sealed record StaticBackend(string Name, DnsEndPoint EndPoint)
{
    /// <summary>
    /// When the operator last ran garbage collection or a prune on this volume (CacheVolume
    /// <c>status.lastGC</c>); a build that then misses a step cached before can name it.
    /// </summary>
    public DateTimeOffset? LastGC { get; init; }

    /// <summary>Whether it takes new builds (<c>state=ready|draining|unavailable</c>).</summary>
    public BackendState State { get; init; } = BackendState.Ready;

    /// <summary>Admission slots; null uses the gateway's <c>--max-concurrent-builds</c>. <c>sharing=locked</c> sets 1.</summary>
    public int? MaxConcurrentBuilds { get; init; }

    /// <summary>Keys pinned to this volume (<c>keys=a;b</c>).</summary>
    public IReadOnlyList<string> Keys { get; init; } = [];

    /// <summary>False for a volume that serves only its pinned keys: it stays off the hash ring.</summary>
    public bool AcceptsHashedKeys { get; init; } = true;

    /// <summary>
    /// Dial it with TLS (its address was <c>tls://</c> or <c>https://</c>), using the gateway's
    /// <c>--upstream-*</c> settings; false: cleartext HTTP/2 (<c>tcp://</c>).
    /// </summary>
    public bool Tls { get; init; }

    /// <summary>A fork: the volume it was cloned from (pool mode only).</summary>
    public string? ForkOf { get; init; }

    /// <summary>An isolated fork: the untrusted build it serves (pool mode only).</summary>
    public string? IsolatedFor { get; init; }

    /// <summary>A Private volume that forks when its builder is at capacity (pool mode only).</summary>
    public bool ForksOnOverflow { get; init; }

    /// <summary>The placement view of this builder.</summary>
    public Backend ToBackend() => new(Name, State)
    {
        Keys = Keys,
        AcceptsHashedKeys = AcceptsHashedKeys,
        ForkOf = ForkOf,
        IsolatedFor = IsolatedFor,
        ForksOnOverflow = ForksOnOverflow,
    };
}
