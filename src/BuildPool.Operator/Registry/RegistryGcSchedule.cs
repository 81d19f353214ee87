using System.Collections.Concurrent;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Status;

namespace BuildPool.Operator.Registry;

/// <summary>
/// When each target's registry is due for its next check. Every status write and every resync
/// reconciles the target again; without this each of them would walk the registry.
/// </summary>
/// <remarks>
/// In memory, keyed by namespace/name: a new spec generation is due at once. After a restart
/// a Ready target whose status shows a retention run within the interval waits for the rest of
/// it; anything else is checked once at start-up.
/// </remarks>
public sealed class RegistryGcSchedule
{
    private readonly ConcurrentDictionary<string, (long? Generation, DateTime Next)> _next = new(StringComparer.Ordinal);

    /// <summary>Whether the target is due; if not, how long until it is.</summary>
    public bool IsDue(string key, RegistryCacheTarget target, TimeSpan interval, DateTime now, out TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(target);
        var generation = target.Metadata.Generation;
        DateTime? next = null;
        if (_next.TryGetValue(key, out var entry) && entry.Generation == generation)
        {
            next = entry.Next;
        }
        else if (target.Status is { ObservedGeneration: var observed, LastGC: { } lastGc } status && observed == generation
                 && Conditions.IsTrue(status.Conditions, Conditions.Ready))
        {
            next = DateTime.SpecifyKind(lastGc, DateTimeKind.Utc) + interval;
        }

        wait = next is { } n && n > now ? n - now : TimeSpan.Zero;
        return wait == TimeSpan.Zero;
    }

    public void Set(string key, long? generation, DateTime next) => _next[key] = (generation, next);

    public void Forget(string key) => _next.TryRemove(key, out _);
}
