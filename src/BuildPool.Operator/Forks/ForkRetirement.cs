using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Status;
using BuildPool.Operator.Volumes;

namespace BuildPool.Operator.Forks;

/// <summary>
/// Pure: whether a fork is done. It is when its base volume is gone, when the untrusted build it
/// was isolated for ended, or when it was idle for the fork idle timeout. A fork that stays says
/// how it was seeded and when it could next be idle.
/// </summary>
/// <param name="Why">Why the fork goes; null when it stays.</param>
/// <param name="Recheck">How long until it could be idle, when it stays.</param>
/// <param name="Seeded">Its <see cref="ForkManager.SeededCondition"/>, when it stays.</param>
public sealed record ForkRetirement(string? Why, TimeSpan? Recheck, ConditionChange? Seeded)
{
    public static ForkRetirement Decide(CacheVolume fork, VolumeSignals forkSignals, CacheVolume? baseVolume, VolumeSignals baseSignals, TimeSpan idleTimeout, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(fork);
        ArgumentNullException.ThrowIfNull(forkSignals);
        ArgumentNullException.ThrowIfNull(baseSignals);
        var baseName = ForkPlanner.BaseOf(fork)!;
        if (baseVolume is null || baseVolume.Metadata.DeletionTimestamp is not null)
        {
            return new ForkRetirement($"its base volume {baseName} is gone", null, null);
        }

        if (ForkPlanner.IsolatedFor(fork) is { } id && !baseSignals.Isolated.ContainsKey(id))
        {
            return new ForkRetirement($"its untrusted build {id} ended", null, null);
        }

        var lastUsed = BuilderScaling.Latest(
            BuilderScaling.Latest(fork.Status.LastUsed, forkSignals.Used),
            BuilderScaling.Latest(forkSignals.Start, fork.Metadata.CreationTimestamp));
        var idleFor = lastUsed is { } t ? now - t : TimeSpan.Zero;
        if (fork.Status.ActiveBuilds == 0 && idleFor >= idleTimeout)
        {
            return new ForkRetirement($"idle for {GoDuration.Format(idleFor)}", null, null);
        }

        var cloned = fork.Spec.CloneFrom is not null;
        var note = fork.Metadata.Annotations?.TryGetValue(ForkPlanner.EmptySeedAnnotation, out var n) == true ? n : "the StorageClass cannot clone";
        var seeded = ConditionChange.Set(ForkManager.SeededCondition, cloned, cloned ? "ClonedFromBase" : "CloneUnsupported",
            cloned ? $"the claim is a CSI clone of CacheVolume {baseName}'s claim" : $"{note}: the fork starts with an empty cache");
        return new ForkRetirement(null, idleTimeout - idleFor > TimeSpan.Zero ? idleTimeout - idleFor : idleTimeout, seeded);
    }
}
