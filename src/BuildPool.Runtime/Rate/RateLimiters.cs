namespace BuildPool.Runtime.Rate;

public static class RateLimiters
{
    /// <summary>
    /// client-go's <c>DefaultControllerRateLimiter</c>: per-item exponential backoff (5 ms → 1000 s)
    /// combined with an overall token bucket (10 qps, burst 100).
    /// </summary>
    public static IRateLimiter<TKey> DefaultController<TKey>(TimeProvider time)
        where TKey : notnull =>
        new MaxOfRateLimiter<TKey>(
            new ItemExponentialFailureRateLimiter<TKey>(),
            new BucketRateLimiter<TKey>(time));
}
