namespace BuildPool.Gateway.Isolation;

/// <summary>
/// Asks the operator for forks of a volume (docs/lifecycle.md) and waits for them. Only pool mode
/// has one: with static backends Private volumes behave like Shared ones and untrusted builds fail.
/// </summary>
public interface IForkRequester
{
    /// <summary>The pool's fork limits.</summary>
    ForkLimits Limits { get; }

    /// <summary>How long a build waits for a fork (the pool's spec.scaling.startTimeout).</summary>
    TimeSpan StartTimeout { get; }

    /// <summary><paramref name="baseId"/> should have <paramref name="wanted"/> overflow forks. Cheap and coalesced: called per waiting build.</summary>
    void RequestOverflow(string baseId, int wanted);

    /// <summary>One untrusted build (<paramref name="buildId"/>) needs an isolated fork of <paramref name="baseId"/>.</summary>
    void RequestIsolated(string baseId, string buildId);

    /// <summary>The untrusted build ended: its fork may go.</summary>
    void ReleaseIsolated(string baseId, string buildId);

    /// <summary>
    /// Completes with true once <paramref name="done"/> holds (it is checked whenever the builder
    /// set changes), or false after <paramref name="timeout"/> or when the gateway stops. Called
    /// under the correlator's lock: the synchronous part only checks and registers.
    /// </summary>
    Task<bool> WaitAsync(Func<bool> done, TimeSpan timeout);

    /// <summary>Something a waiting build looks at changed (a builder's state, a freed slot): waiters check again.</summary>
    void Wake();
}
