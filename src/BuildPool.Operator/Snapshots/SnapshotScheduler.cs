using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Snapshots;

/// <summary>
/// The snapshot step of a CacheVolume's reconcile: takes the due VolumeSnapshot of its claim,
/// prunes beyond the retention count, and says what the volume's status should show (condition
/// <see cref="Condition"/>, <c>lastSnapshot</c>). Forks are never snapshotted: they are discarded.
/// </summary>
public sealed partial class SnapshotScheduler(SnapshotApi api, EventRecorder events, ILogger logger)
{
    public const string Condition = "SnapshotsAvailable";
    public const string CrdMissingReason = "VolumeSnapshotCRDMissing";

    /// <summary>Runs the schedule for <paramref name="volume"/>, whose status says when the last snapshot was taken.</summary>
    public async Task<SnapshotStep> RunAsync(CacheVolume volume, BuilderPool pool, bool claimExists, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(pool);
        var status = volume.Status;
        if (pool.Spec.Cache.Snapshots is not { } policy || volume.Metadata.Labels?.ContainsKey(LifecycleAnnotations.ForkOfLabel) == true)
        {
            return new SnapshotStep(null, ConditionChange.Remove(Condition), null);
        }

        if (!GoDuration.TryParse(policy.Schedule, out var interval, out var error) || interval < TimeSpan.FromSeconds(1))
        {
            return new SnapshotStep(null, ConditionChange.Set(Condition, false, "InvalidSchedule",
                $"BuilderPool {pool.Metadata.Name}: spec.cache.snapshots.schedule: {error ?? "must be at least 1s"}"), null);
        }

        if (!await api.AvailableAsync(cancellationToken))
        {
            return new SnapshotStep(null, ConditionChange.Set(Condition, false, CrdMissingReason,
                $"BuilderPool {pool.Metadata.Name} sets spec.cache.snapshots, but the cluster does not serve {VolumeSnapshot.KubeGroup}/{VolumeSnapshot.KubeApiVersion} VolumeSnapshots: install the CSI snapshot CRDs and controller"), null);
        }

        if (!claimExists)
        {
            return SnapshotStep.Nothing;
        }

        // The status says when the last one was taken: no list call until one is due again.
        if (status.LastSnapshotTime is { } recorded && now - recorded < interval && Conditions.IsTrue(status.Conditions, Condition))
        {
            return new SnapshotStep(interval - (now - recorded), null, null);
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
            return SnapshotStep.Nothing;
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

        var latest = plan.Latest is { } newest ? (newest.Metadata.Name, plan.Create is not null ? now : newest.Metadata.CreationTimestamp) : ((string, DateTime?)?)null;
        return new SnapshotStep(plan.NextDue, ConditionChange.Set(Condition, true, "Scheduled",
            $"a VolumeSnapshot (class {policy.VolumeSnapshotClassName}) every {policy.Schedule}, keeping {policy.Retain}"), latest);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Took VolumeSnapshot {Snapshot} of {Volume}")]
        public static partial void Created(ILogger logger, string volume, string snapshot);

        [LoggerMessage(Level = LogLevel.Information, Message = "Deleted VolumeSnapshot {Snapshot} of {Volume}: beyond the {Retain} kept")]
        public static partial void Pruned(ILogger logger, string volume, string snapshot, int retain);
    }
}
