namespace BuildPool.Runtime.Rate;

/// <summary>
/// A token bucket over the whole queue (client-go's <c>BucketRateLimiter</c>, defaults 10 qps, burst 100):
/// it bounds the overall retry rate when many items fail at once, e.g. during an API outage.
/// </summary>
/// <remarks>
/// Like <c>rate.Limiter.Reserve</c>, every call takes a token even if the bucket is empty; the
/// returned delay is when that token will exist. Tokens are not per item, so <see cref="Forget"/>
/// does nothing.
/// </remarks>
public sealed class BucketRateLimiter<TKey> : IRateLimiter<TKey>
    where TKey : notnull
{
    public const double DefaultQps = 10;
    public const int DefaultBurst = 100;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly double _qps;
    private readonly int _burst;
    private double _tokens;
    private long _lastTimestamp;

    public BucketRateLimiter(TimeProvider time, double qps = DefaultQps, int burst = DefaultBurst)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(qps, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _time = time;
        _qps = qps;
        _burst = burst;
        _tokens = burst;
        _lastTimestamp = time.GetTimestamp();
    }

    public TimeSpan When(TKey item)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var elapsed = _time.GetElapsedTime(_lastTimestamp, now);
            _lastTimestamp = now;
            _tokens = Math.Min(_burst, _tokens + (elapsed.TotalSeconds * _qps));
            _tokens -= 1;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _qps);
        }
    }

    public void Forget(TKey item)
    {
    }

    public int NumRequeues(TKey item) => 0;
}
