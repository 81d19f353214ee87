namespace BuildPool.Operator.Registry;

/// <summary>A tag retention deletes (or spares), and why, in words for a log line or a CLI.</summary>
public sealed record RetentionDecision(CacheTag Tag, string Reason);
