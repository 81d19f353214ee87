using System.Globalization;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Signals;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Pure: should a volume's builder run? Warm builders (the first <c>warmBuilders</c> volumes of a
/// pool by name) always run; others run while builds use them or the gateway asks for them (its signals), and
/// stop after <c>idleTimeout</c> without use. Their volume stays either way.
/// </summary>
public static class BuilderScaling
{
    public sealed record Decision(bool Running, string Reason, TimeSpan? RecheckAfter);

    public static Decision Decide(CacheVolume volume, BuilderPool pool, IReadOnlyList<CacheVolume> poolVolumes, VolumeSignals signals, TimeSpan idleTimeout, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(poolVolumes);
        if (Forks.ForkPlanner.IsFork(volume))
        {
            // A fork exists only to run; it is deleted, not stopped, when idle.
            return new Decision(true, "Fork", null);
        }

        var rank = poolVolumes
            .Where(v => v.Metadata.DeletionTimestamp is null && !Forks.ForkPlanner.IsFork(v))
            .Select(v => v.Metadata.Name)
            .Order(StringComparer.Ordinal)
            .ToList()
            .IndexOf(volume.Metadata.Name);
        if (rank >= 0 && rank < pool.Spec.Scaling.WarmBuilders)
        {
            return new Decision(true, "Warm", null);
        }

        if (volume.Status.ActiveBuilds > 0)
        {
            return new Decision(true, "ActiveBuilds", idleTimeout);
        }

        var lastWanted = Latest(signals.Start, signals.Used);
        if (lastWanted is { } t && now - t < idleTimeout)
        {
            return new Decision(true, "RecentlyUsed", idleTimeout - (now - t));
        }

        return new Decision(false, "Idle", null);
    }

    /// <summary>A time written into an annotation; null when absent or unreadable.</summary>
    public static DateTime? Annotation(CacheVolume volume, string key) =>
        volume.Metadata.Annotations is { } a && a.TryGetValue(key, out var text)
            && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : null;

    public static DateTime? Latest(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}
