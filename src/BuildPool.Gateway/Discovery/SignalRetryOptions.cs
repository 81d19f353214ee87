namespace BuildPool.Gateway.Discovery;

/// <summary>How the gateway writes its signals again after the API refused or failed a write (<see cref="SignalRetry"/>).</summary>
public sealed record SignalRetryOptions
{
    /// <summary>The wait after the first failure; it doubles with each failure in a row, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between two tries after failures other than 403.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The wait after a 403 Forbidden: the gateway's Role does not (or not yet) let it patch the
    /// signal Lease, which asking again soon will not change. Doubles up to <see cref="MaxForbiddenRetryDelay"/>.
    /// </summary>
    public TimeSpan ForbiddenRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two tries while the API answers 403.</summary>
    public TimeSpan MaxForbiddenRetryDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where the jitter comes from (tests pass a seeded one).</summary>
    public Random Random { get; init; } = Random.Shared;
}
