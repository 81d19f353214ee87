using BuildPool.Runtime.Rate;

namespace BuildPool.Runtime.Controllers;

public sealed class ControllerOptions
{
    /// <summary>Names the queue, metrics (<c>controller</c> tag) and logs, e.g. <c>builderpool</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Reconciles running at once, each on a different key.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>
    /// Every key in the primary cache is reconciled again this often, to repair drift that no
    /// event announces. Null disables it.
    /// </summary>
    public TimeSpan? ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long to wait for the informers' first list before giving up (which stops the host).</summary>
    public TimeSpan CacheSyncTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Set when the primary kind is cluster-scoped: owner references then map to keys without a namespace.</summary>
    public bool ClusterScoped { get; init; }

    /// <summary>Defaults to <see cref="RateLimiters.DefaultController{TKey}"/>.</summary>
    public IRateLimiter<ReconcileRequest>? RateLimiter { get; init; }
}
