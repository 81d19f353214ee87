namespace BuildPool.Gateway.Discovery;

/// <summary>
/// Pure: how long the gateway waits before writing its signals again after <c>failures</c>
/// failed tries in a row. Exponential from the first delay to the cap (a 403 starts and ends far
/// higher: only a change of RBAC helps), with equal jitter: half of the delay is fixed and half
/// random, so gateway replicas refused together do not come back together, yet none comes back
/// sooner than half the delay.
/// </summary>
public static class SignalRetry
{
    /// <param name="failures">Failed tries in a row, 1 for the first.</param>
    /// <param name="forbidden">The last failure was 403 Forbidden.</param>
    /// <param name="jitter">A random number in [0, 1).</param>
    /// <param name="options">The delays.</param>
    public static TimeSpan Delay(int failures, bool forbidden, double jitter, SignalRetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (first, max) = forbidden ? (options.ForbiddenRetryDelay, options.MaxForbiddenRetryDelay) : (options.RetryDelay, options.MaxRetryDelay);
        var doubled = first.Ticks * Math.Pow(2, Math.Clamp(failures - 1, 0, 62));
        var ceiling = Math.Min(max.Ticks, doubled);
        return TimeSpan.FromTicks((long)((ceiling / 2) + (ceiling / 2 * Math.Clamp(jitter, 0, 1))));
    }
}
