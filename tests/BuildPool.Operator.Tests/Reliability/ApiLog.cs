using System.Collections.Concurrent;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// Every request the operator instances of one test sent, in the order they finished. Kept on
/// the client side so each call is attributed to the instance that made it, which the API
/// server's own counters cannot do.
/// </summary>
internal sealed class ApiLog
{
    private readonly ConcurrentQueue<ApiCall> _calls = new();

    public void Add(ApiCall call) => _calls.Enqueue(call);

    public IReadOnlyList<ApiCall> Calls => [.. _calls];

    public IReadOnlyList<ApiCall> Writes(string? instance = null) =>
        [.. _calls.Where(c => c.IsWrite && (instance is null || c.Instance == instance))];

    /// <summary>
    /// Write attempts (answered or not; or only the successful ones) per pool, telling a pool's objects by name: the pool
    /// itself and everything named "&lt;pool&gt;-…". Pool names must not prefix one another.
    /// </summary>
    public IReadOnlyDictionary<string, int> ReconcileWritesByPool(IEnumerable<string> pools, bool succeededOnly = false)
    {
        var names = pools.ToList();
        var counts = names.ToDictionary(p => p, _ => 0, StringComparer.Ordinal);
        foreach (var call in _calls.Where(c => c.IsReconcileWrite && c.Name is not null && (!succeededOnly || c.Status is >= 200 and < 300)))
        {
            var pool = names.FirstOrDefault(p => call.Name == p || call.Name!.StartsWith(p + "-", StringComparison.Ordinal));
            if (pool is not null)
            {
                counts[pool]++;
            }
        }

        return counts;
    }
}
