namespace BuildPool.Runtime.Controllers;

/// <summary>
/// What a successful reconcile asks for next. Failures are exceptions, not results: the controller
/// retries them with backoff.
/// </summary>
public readonly record struct ReconcileResult
{
    /// <summary>Nothing more to do until something changes.</summary>
    public static ReconcileResult Done => default;

    /// <summary>Try again soon, with the per-item backoff (e.g. waiting for a child to become ready).</summary>
    public static ReconcileResult Requeue => new() { RequeueRateLimited = true };

    public bool RequeueRateLimited { get; init; }

    /// <summary>When positive, reconcile again after this delay (e.g. a drain deadline); the backoff is reset.</summary>
    public TimeSpan RequeueAfter { get; init; }

    public static ReconcileResult After(TimeSpan delay) => new() { RequeueAfter = delay };
}
