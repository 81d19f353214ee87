namespace BuildPool.Gateway.Insight;

/// <summary>Why the first step a build executed was not served from the builder's cache.</summary>
public enum MissCause
{
    /// <summary>The key never built on this builder (a first build, a new volume).</summary>
    ColdBuilder,

    /// <summary>The key's last build ran on another builder (spill, scale event, lost builder).</summary>
    Moved,

    /// <summary>A step that does not read the build context has another digest than last time (its command, an ARG value, a re-tagged base image).</summary>
    DefinitionChanged,

    /// <summary>The step reads the client's build context: its files changed (or its cache was evicted; the two look alike).</summary>
    ContextChanged,

    /// <summary>A context-free step with the digest it had when it was last cached on this builder ran again: its cache is gone (GC or prune).</summary>
    Evicted,

    /// <summary>The client asked for it (<c>--no-cache</c>, <c>--no-cache-filter</c>).</summary>
    NoCache,

    /// <summary>None of the above can be told from what the gateway saw.</summary>
    Unknown,
}
