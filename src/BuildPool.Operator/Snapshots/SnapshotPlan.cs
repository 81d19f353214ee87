namespace BuildPool.Operator.Snapshots;

/// <summary>What the snapshot schedule of one volume needs now, computed without I/O.</summary>
/// <param name="Create">A snapshot to take now; null when none is due.</param>
/// <param name="Delete">Snapshots beyond the retention count, oldest first.</param>
/// <param name="Latest">The newest snapshot after this plan (the one created, or the newest kept).</param>
/// <param name="NextDue">How long until the next snapshot is due.</param>
public sealed record SnapshotPlan(VolumeSnapshot? Create, IReadOnlyList<VolumeSnapshot> Delete, VolumeSnapshot? Latest, TimeSpan NextDue);
