using System.Collections.Concurrent;

namespace BuildPool.LocalApi;

/// <summary>
/// Counts requests by verb and resource so tests can assert that a controller settles
/// (for example, no more than a few status writes per object) instead of hot-looping.
/// Resources are named like the URL: <c>builderpools</c>, <c>builderpools/status</c>.
/// </summary>
public sealed class RequestStats
{
    private readonly ConcurrentDictionary<(string Verb, string Resource), long> _counts = new();

    private static readonly HashSet<string> WriteVerbs = ["create", "update", "patch", "delete", "deletecollection"];

    /// <summary>Requests seen with this verb (<c>get</c>, <c>list</c>, <c>watch</c>, <c>create</c>, <c>update</c>, <c>patch</c>, <c>delete</c>, <c>deletecollection</c>) on this resource.</summary>
    public long Count(string verb, string resource) => _counts.GetValueOrDefault((verb, resource));

    /// <summary>Create, update, patch and delete requests on this resource (subresources are separate: pass <c>x/status</c>).</summary>
    public long Writes(string resource) =>
        _counts.Where(kv => kv.Key.Resource == resource && WriteVerbs.Contains(kv.Key.Verb)).Sum(kv => kv.Value);

    /// <summary>Every write on every resource.</summary>
    public long TotalWrites => _counts.Where(kv => WriteVerbs.Contains(kv.Key.Verb)).Sum(kv => kv.Value);

    /// <summary>Every request counted so far.</summary>
    public long Total => _counts.Values.Sum();

    /// <summary>A copy of all counters keyed by (verb, resource).</summary>
    public IReadOnlyDictionary<(string Verb, string Resource), long> Snapshot() => new Dictionary<(string, string), long>(_counts);

    /// <summary>Starts counting from zero, e.g. after a test's setup phase.</summary>
    public void Reset() => _counts.Clear();

    internal void Record(string verb, string resource) => _counts.AddOrUpdate((verb, resource), 1, (_, n) => n + 1);
}
