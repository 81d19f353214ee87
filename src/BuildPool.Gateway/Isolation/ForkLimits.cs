namespace BuildPool.Gateway.Isolation;

/// <summary>The pool's spec.cache.forks limits as the gateway knows them: it stops holding builds for a fork that cannot come.</summary>
/// <param name="MaxPerVolume">Forks of one volume at a time.</param>
/// <param name="MaxPerPool">Forks of the whole pool at a time.</param>
public sealed record ForkLimits(int MaxPerVolume = 2, int MaxPerPool = 8);
