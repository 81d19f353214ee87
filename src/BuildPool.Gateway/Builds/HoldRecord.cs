namespace BuildPool.Gateway.Builds;

// What a build's holds leave behind for its next decision (BuildRouter reads it through the
// facts). Guarded by the correlator's lock. Instants are on the correlator's clock.
internal sealed class HoldRecord
{
    // A build waits for its builder to start at most once; after that it spills, or fails with
    // StartFailure.
    public bool StartWaited { get; set; }

    public string? StartFailure { get; set; }

    // Since when it waits for an overflow fork (all its fork waits together are bounded).
    public TimeSpan? OverflowWaitSince { get; set; }

    public IsolationClaim? Isolation { get; set; }

    // Cancelled when the build ends while it waits for its builder's start, so the wait (and what
    // it asked the operator for) ends with it.
    public CancellationTokenSource? StartWait { get; set; }

    // A build that was merged into another while it was held hands on what its hold learned.
    public void Inherit(HoldRecord held)
    {
        StartWaited |= held.StartWaited;
        StartFailure ??= held.StartFailure;
        Isolation ??= held.Isolation;
        if (held.OverflowWaitSince is { } since && (OverflowWaitSince is not { } mine || since > mine))
        {
            OverflowWaitSince = since;
        }
    }
}
