using System.Globalization;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Snapshots;

/// <summary>
/// Pure: a volume's snapshot schedule. A snapshot is due when the newest one of the volume is
/// <c>schedule</c> old (or there is none); beyond <c>retain</c> the oldest go first.
/// </summary>
public static class SnapshotPlanner
{
    /// <summary>Label on every snapshot the operator takes: the CacheVolume it is of (with the pool label).</summary>
    public const string VolumeLabel = WellKnown.VolumeLabel;

    public static SnapshotPlan Plan(CacheVolume volume, string claimName, SnapshotPolicy policy, TimeSpan interval, IReadOnlyList<VolumeSnapshot> existing, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(existing);
        var ordered = existing
            .Where(s => s.Metadata.DeletionTimestamp is null)
            .OrderBy(s => s.Metadata.CreationTimestamp ?? DateTime.MinValue)
            .ThenBy(s => s.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        var newest = ordered.Count > 0 ? ordered[^1].Metadata.CreationTimestamp : null;
        VolumeSnapshot? create = null;
        if (newest is not { } last || now - last >= interval)
        {
            var labels = Owners.VolumeLabels(volume.Spec.Pool, volume.Metadata.Name);
            create = new VolumeSnapshot
            {
                Metadata = Owners.ChildMeta(volume, Name(volume.Metadata.Name, now), labels),
                Spec = new VolumeSnapshotSpec
                {
                    VolumeSnapshotClassName = policy.VolumeSnapshotClassName,
                    Source = new VolumeSnapshotSource { PersistentVolumeClaimName = claimName },
                },
            };
            create.Metadata.CreationTimestamp = now;
            ordered.Add(create);
        }

        var excess = Math.Max(0, ordered.Count - policy.Retain);
        var delete = ordered.Take(excess).Where(s => s != create).ToList();
        var due = create is not null ? interval : interval - (now - newest!.Value);
        return new SnapshotPlan(create, delete, ordered.Count > 0 ? ordered[^1] : null, due);
    }

    /// <summary><c>&lt;volume&gt;-&lt;UTC time to the second&gt;</c>: sorts by age and names the moment it was taken.</summary>
    public static string Name(string volume, DateTime now) =>
        $"{volume}-{now.ToUniversalTime().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}";

    /// <summary>The label selector of one volume's snapshots.</summary>
    public static string Selector(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return $"{WellKnown.PoolLabel}={volume.Spec.Pool},{VolumeLabel}={volume.Metadata.Name}";
    }
}
