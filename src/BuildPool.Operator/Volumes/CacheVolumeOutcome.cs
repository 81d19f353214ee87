using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Status;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Where one reconcile left a volume, for <see cref="CacheVolumeStatusCalculator"/>: the plan's
/// verdict, completed by what applying it found (usage after pruning, snapshots, forks, space).
/// </summary>
public sealed record CacheVolumeOutcome(CacheVolumePhase Phase, Outcome Result, DateTime Now)
{
    public int ActiveBuilds { get; init; }

    public long? UsedBytes { get; init; }

    /// <summary>The gateway must stop sending builds here.</summary>
    public bool Draining { get; init; }

    /// <summary>A GC pass ran in this reconcile: <c>lastGC</c> is <see cref="Now"/>.</summary>
    public bool GcRan { get; init; }

    /// <summary>Changes from the fork and snapshot steps, applied before the outcome's conditions.</summary>
    public IReadOnlyList<ConditionChange> Conditions { get; init; } = [];

    /// <summary>The <see cref="CacheVolumeReconciler.VolumeFullCondition"/> once usage was measured; null leaves it.</summary>
    public ConditionChange? Space { get; init; }

    public string? LastSnapshot { get; init; }

    public DateTime? LastSnapshotTime { get; init; }

    public int? Forks { get; init; }
}
