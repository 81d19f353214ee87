using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Snapshots;

/// <summary>
/// The snapshot step of a CacheVolume's reconcile: takes the due VolumeSnapshot of its claim,
/// prunes beyond the retention count, and records the outcome in the volume's status (condition
/// <see cref="Condition"/>, <c>lastSnapshot</c>). Forks are never snapshotted: they are discarded.
/// </summary>
public sealed partial class SnapshotScheduler(SnapshotApi api, EventRecorder events, ILogger logger)
{
    public const string Condition = "SnapshotsAvailable";
    public const string CrdMissingReason = "VolumeSnapshotCRDMissing";

    /// <summary>
    /// Runs the schedule for <paramref name="volume"/> (a copy whose status the caller writes) and
    /// returns how long until the next snapshot is due, or null when nothing is scheduled.
    /// </summary>
    public async Task<TimeSpan?> RunAsync(CacheVolume volume, BuilderPool pool, bool claimExists, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(pool);
        var status = volume.Status;
        var generation = volume.Metadata.Generation;
        if (pool.Spec.Cache.Snapshots is not { } policy || volume.Metadata.Labels?.ContainsKey(LifecycleAnnotations.ForkOfLabel) == true)
        {
            Conditions.Remove(status.Conditions, Condition);
            return null;
        }

        if (!GoDuration.TryParse(policy.Schedule, out var interval, out var error) || interval < TimeSpan.FromSeconds(1))
        {
            Conditions.Set(status.Conditions, Condition, false, "InvalidSchedule",
                $"BuilderPool {pool.Metadata.Name}: spec.cache.snapshots.schedule: {error ?? "must be at least 1s"}", generation, now);
            return null;
        }

        if (!await api.AvailableAsync(cancellationToken))
        {
            Conditions.Set(status.Conditions, Condition, false, CrdMissingReason,
                $"BuilderPool {pool.Metadata.Name} sets spec.cache.snapshots, but the cluster does not serve {VolumeSnapshot.KubeGroup}/{VolumeSnapshot.KubeApiVersion} VolumeSnapshots: install the CSI snapshot CRDs and controller",
                generation, now);
            return null;
        }

        if (!claimExists)
        {
            return null;
        }

        // The status says when the last one was taken: no list call until one is due again.
        if (status.LastSnapshotTime is { } recorded && now - recorded < interval && Conditions.IsTrue(status.Conditions, Condition))
        {
            return interval - (now - recorded);
        }

        IReadOnlyList<VolumeSnapshot> existing;
        try
        {
            existing = await api.Client.ListAsync(volume.Metadata.NamespaceProperty, SnapshotPlanner.Selector(volume), cancellationToken);
        }
        catch (NotFoundException)
        {
            // The CRD went away since discovery answered.
            api.Forget();
            return null;
        }

        var plan = SnapshotPlanner.Plan(volume, ResourceNames.StateClaim(volume.Metadata.Name), policy, interval, existing, now);
        if (plan.Create is { } create)
        {
            try
            {
                create.Metadata.CreationTimestamp = null;
                await api.Client.CreateAsync(create, cancellationToken);
                Log.Created(logger, volume.Metadata.Name, create.Metadata.Name);
                await events.RecordAsync(volume, "Normal", "Snapshotted", $"took VolumeSnapshot {create.Metadata.Name} of the cache volume", cancellationToken);
            }
            catch (ConflictException ex) when (ex.IsAlreadyExists)
            {
                // Taken already this second (a retried reconcile): it is there, which is the point.
            }
        }

        foreach (var old in plan.Delete)
        {
            await api.Client.DeleteAsync(old.Metadata.NamespaceProperty, old.Metadata.Name, cancellationToken);
            Log.Pruned(logger, volume.Metadata.Name, old.Metadata.Name, policy.Retain);
        }

        if (plan.Latest is { } latest)
        {
            status.LastSnapshot = latest.Metadata.Name;
            status.LastSnapshotTime = plan.Create is not null ? now : latest.Metadata.CreationTimestamp;
        }

        Conditions.Set(status.Conditions, Condition, true, "Scheduled",
            $"a VolumeSnapshot (class {policy.VolumeSnapshotClassName}) every {policy.Schedule}, keeping {policy.Retain}", generation, now);
        return plan.NextDue;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Took VolumeSnapshot {Snapshot} of {Volume}")]
        public static partial void Created(ILogger logger, string volume, string snapshot);

        [LoggerMessage(Level = LogLevel.Information, Message = "Deleted VolumeSnapshot {Snapshot} of {Volume}: beyond the {Retain} kept")]
        public static partial void Pruned(ILogger logger, string volume, string snapshot, int retain);
    }
}
