namespace BuildPool.Gateway.Insight;

/// <summary>A prune of a builder's cache the gateway knows of.</summary>
/// <param name="At">When it happened.</param>
/// <param name="Source">Who did it, in words (<c>a Prune call through the gateway</c>, <c>the operator (CacheVolume status.lastGC)</c>).</param>
public sealed record PruneRecord(DateTimeOffset At, string Source);
