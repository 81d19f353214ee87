namespace BuildPool.Gateway.Routing;

/// <summary>Why a build went where it went (a label on the routed-builds metric).</summary>
public enum PlacementOutcome
{
    /// <summary>No builder can take the build now (none ready, or the key's dedicated builder is draining or unavailable).</summary>
    Unavailable,

    /// <summary>A volume pins the key (<c>spec.keys</c>).</summary>
    Pinned,

    /// <summary>The key's first eligible builder on the ring.</summary>
    Hashed,

    /// <summary>A later builder on the ring, because the earlier ones were at their bounded load.</summary>
    Spilled,

    /// <summary>The key's own volume (Dedicated mode).</summary>
    Dedicated,

    /// <summary>Dedicated mode and the key has no volume yet; the operator was told and the build waits.</summary>
    AwaitingVolume,

    /// <summary>A keyless call sent to the least loaded ready builder.</summary>
    Any,

    /// <summary>An overflow fork of the key's Private volume, whose builder was at capacity.</summary>
    Forked,

    /// <summary>The isolated fork of an untrusted build.</summary>
    Isolated,
}
