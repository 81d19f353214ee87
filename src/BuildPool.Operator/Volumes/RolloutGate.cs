using System.Collections.Concurrent;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// One builder per pool restarts for a configuration change at a time. Reconciles of one pool's
/// volumes run on different workers, and the cache they read lags their own writes, so the
/// statuses alone cannot stop two volumes starting to drain in the same instant; this gate can.
/// After an operator restart it starts empty, and volumes already Draining in status hold it again.
/// </summary>
public sealed class RolloutGate
{
    private readonly ConcurrentDictionary<string, string> _holders = new(StringComparer.Ordinal);

    /// <summary>True if <paramref name="volume"/> holds (or now takes) the pool's rollout turn.</summary>
    public bool TryEnter(string poolKey, string volume) =>
        _holders.GetOrAdd(poolKey, volume) == volume;

    public void Exit(string poolKey, string volume) =>
        _holders.TryRemove(new KeyValuePair<string, string>(poolKey, volume));

    public string? Holder(string poolKey) => _holders.TryGetValue(poolKey, out var v) ? v : null;
}
