using BuildPool.Operator.Status;

namespace BuildPool.Operator.Snapshots;

/// <summary>What the snapshot step of a reconcile leaves for the volume's status.</summary>
/// <param name="NextDue">How long until the next snapshot is due; null when nothing is scheduled.</param>
/// <param name="Condition">The change to the <see cref="SnapshotScheduler.Condition"/> condition, or null to leave it.</param>
/// <param name="Latest">The newest snapshot and when it was taken, or null to leave status as it is.</param>
public sealed record SnapshotStep(TimeSpan? NextDue, ConditionChange? Condition, (string Name, DateTime? Time)? Latest)
{
    public static readonly SnapshotStep Nothing = new(null, null, null);
}
