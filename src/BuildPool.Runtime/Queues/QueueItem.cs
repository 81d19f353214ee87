namespace BuildPool.Runtime.Queues;

/// <summary>
/// What <see cref="RateLimitingQueue{TKey}.GetAsync"/> hands out: a key to work on (the caller must
/// call <see cref="RateLimitingQueue{TKey}.Done"/> for it), or <see cref="IsShutDown"/> when the
/// queue is shut down and empty, in which case <see cref="Key"/> is meaningless.
/// </summary>
public readonly record struct QueueItem<TKey>(TKey Key, bool IsShutDown);
