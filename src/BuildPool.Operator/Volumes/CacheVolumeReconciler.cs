using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Children;
using BuildPool.Operator.Diagnosis;
using BuildPool.Operator.Forks;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Snapshots;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Controllers;
using BuildPool.Runtime.Informers;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// CacheVolume: the state PVC, buildkitd.toml, the builder Deployment and its Service; starts
/// and stops the builder, and never stops one with running builds before the drain deadline.
/// Each reconcile observes (the caches, one probe of the daemon), plans
/// (<see cref="CacheVolumePlanner"/>), applies the plan, and writes the status
/// (<see cref="CacheVolumeStatusCalculator"/>) when it changed.
/// </summary>
public sealed partial class CacheVolumeReconciler(
    OperatorCaches caches,
    OperatorOptions options,
    IBuilderConnector connector,
    EventRecorder events,
    OperatorMetrics metrics,
    TimeProvider time,
    ILogger<CacheVolumeReconciler> logger)
    : IReconciler<CacheVolume>
{
    public const string DrainingCondition = "Draining";
    public const string VolumeFullCondition = "CacheVolumeFull";

    private readonly SnapshotScheduler _snapshots = new(caches.Snapshots, events, logger);
    private readonly ForkManager _forks = new(caches, new ForkLedger(time), events, logger);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        var cached = caches.Volumes.Cache.Get(request.Namespace, request.Name);
        if (cached is null)
        {
            return ReconcileResult.Done;
        }

        var volume = ObjectCopy.DeepCopy(cached);
        if (volume.Metadata.DeletionTimestamp is null)
        {
            volume = await caches.VolumeWriter.Client.AddFinalizerAsync(volume, WellKnown.VolumeFinalizer, cancellationToken);
        }

        var now = StatusClock.Now(time);
        var observed = await ObserveAsync(cached, volume, cancellationToken);
        return await ApplyAsync(observed, CacheVolumePlanner.Plan(observed, now), now, cancellationToken);
    }

    /// <summary>Reads what the plan needs from the caches, and asks the daemon once when a builder pod is ready. Writes nothing.</summary>
    private async Task<CacheVolumeObservation> ObserveAsync(CacheVolume cached, CacheVolume volume, CancellationToken cancellationToken)
    {
        var ns = volume.Metadata.NamespaceProperty;
        var pool = caches.Pools.Cache.Get(ns, volume.Spec.Pool);
        if (pool is not null)
        {
            await caches.LoadSecretsOfAsync(pool, cancellationToken);
        }

        var credentials = pool is null ? null : BuilderCredentialsPlanner.Plan(pool, caches.BindingsOf(ns, pool.Metadata.Name), secret => caches.SecretReader.Cached(ns, secret),
            isolated: ForkPlanner.IsolatedFor(volume) is not null, managedRegistries: caches.ManagedRegistriesOf(pool));
        var deployment = caches.Deployments.Cache.Get(ns, ResourceNames.Builder(volume.Metadata.Name));
        var signals = caches.SignalsOf(ns, volume.Spec.Pool);
        var forkBase = ForkPlanner.BaseOf(volume);
        var finalizing = volume.Metadata.DeletionTimestamp is not null;
        var claim = caches.Claims.Cache.Get(ns, ResourceNames.StateClaim(volume.Metadata.Name));
        // Only a ready pod can be running builds: a Pending or crash-looping one is not dialled (its
        // cluster name may not even resolve yet), and stopping it needs no drain. A builder already
        // draining running builds stays asked while it has a pod: a moment without a ready replica
        // in the Deployment's status must not end the drain and cut those builds short.
        var draining = volume.Status?.Phase == CacheVolumePhase.Draining && (deployment?.Status?.Replicas ?? 0) > 0;
        var probe = ((deployment?.Status?.ReadyReplicas ?? 0) > 0 || draining) && (!finalizing || Finalizers.Has(volume, WellKnown.VolumeFinalizer))
            ? await ProbeAsync(volume, cancellationToken)
            : null;
        return new CacheVolumeObservation
        {
            Cached = cached,
            Volume = volume,
            Options = options,
            Pool = pool,
            Credentials = credentials,
            Settings = pool is null || credentials is null ? null : CacheVolumeSettings.Resolve(volume, pool, credentials),
            MissingSecrets = pool is null ? [] : SecretChecks.Missing(pool, secret => caches.SecretReader.Cached(ns, secret)),
            PoolVolumes = pool is null ? [] : caches.VolumesOf(ns, pool.Metadata.Name),
            Deployment = deployment,
            Claim = claim,
            Start = finalizing ? StartObservation.None : await caches.Starts.ReadAsync(deployment, claim, cancellationToken),
            ForkBase = forkBase is null ? null : caches.Volumes.Cache.Get(ns, forkBase),
            Signals = signals.For(volume.Metadata.Name),
            ForkBaseSignals = forkBase is null ? VolumeSignals.None : signals.For(forkBase),
            Probe = probe,
        };
    }

    /// <summary>Running builds first: a drain needs them even when the daemon then fails to list workers or usage.</summary>
    private async Task<BuilderProbe> ProbeAsync(CacheVolume volume, CancellationToken cancellationToken)
    {
        int? active = null;
        try
        {
            using var client = connector.Connect(volume);
            active = (await client.ListActiveBuildsAsync(cancellationToken)).Count;
            var workers = await client.ListWorkersAsync(cancellationToken);
            var usage = await client.DiskUsageAsync(cancellationToken: cancellationToken);
            return new BuilderProbe(active, workers.Count, workers.FirstOrDefault()?.BuildkitVersion?.Version ?? "unknown", usage);
        }
        catch (BuildKitUnavailableException ex)
        {
            return BuilderProbe.Unreachable(active, ex.Message);
        }
    }

    /// <summary>Carries the plan out in its order, then writes the status it ends with if that changed.</summary>
    private async Task<ReconcileResult> ApplyAsync(CacheVolumeObservation observed, CacheVolumePlan plan, DateTime now, CancellationToken cancellationToken)
    {
        var volume = observed.Volume;
        LogDrain(volume, plan.Drain);
        if (plan.Delete is { } deletion)
        {
            await DeleteAsync(volume, deletion, cancellationToken);
            return ReconcileResult.Done;
        }

        if (plan.TakeRolloutTurn)
        {
            await PassRolloutTurnAsync(observed.Pool!, volume.Metadata.Name, cancellationToken);
        }

        var (outcome, next) = plan.Children is { } children
            ? await ServeAsync(observed, plan, children, now, cancellationToken)
            : (plan.Status, plan.Next);
        if (plan.Finalize)
        {
            await FinalizeAsync(volume, now, cancellationToken);
            return ReconcileResult.Done;
        }

        if (plan.ReleaseRolloutTurn)
        {
            await PassRolloutTurnAsync(observed.Pool!, null, cancellationToken);
        }

        if (outcome is not null)
        {
            await WriteStatusAsync(observed, outcome, cancellationToken);
        }

        return next;
    }

    /// <summary>Writes the children, runs the snapshot and fork steps, prunes and grows; returns the outcome they leave.</summary>
    private async Task<(CacheVolumeOutcome? Outcome, ReconcileResult Next)> ServeAsync(CacheVolumeObservation observed, CacheVolumePlan plan, BuilderChildren children, DateTime now, CancellationToken cancellationToken)
    {
        var volume = observed.Volume;
        var pool = observed.Pool!;
        // A retained claim from an earlier pool of this name is adopted (it stays Retain). The cache
        // shows only labelled claims: one without our labels is found when creating it, and refused.
        try
        {
            await ClaimApplier.ApplyAsync(caches.ClaimWriter, children.Claim, existing => ClaimAdoption.Verify(existing, children.Claim, volume), [WellKnown.RetainedAnnotation], cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            var stalled = new CacheVolumeOutcome(CacheVolumePhase.Pending, Outcome.Stalled(ClaimAdoption.ConflictReason, ex.Message), now)
            {
                LastSnapshot = volume.Status.LastSnapshot,
                LastSnapshotTime = volume.Status.LastSnapshotTime,
                Forks = volume.Status.Forks,
            };
            return (stalled, ReconcileResult.After(CacheVolumePlanner.ClaimConflictRecheck));
        }

        await caches.ConfigMapWriter.ApplyAsync(children.Config, cancellationToken);
        await caches.ServiceWriter.ApplyAsync(children.Service, cancellationToken);
        await caches.DeploymentWriter.ApplyAsync(children.Builder, cancellationToken);
        var snapshot = await _snapshots.RunAsync(volume, pool, observed.Claim is not null, now, cancellationToken);
        var outcome = plan.Status! with
        {
            Conditions = snapshot.Condition is { } change ? [.. plan.Status.Conditions, change] : plan.Status.Conditions,
            LastSnapshot = snapshot.Latest?.Name ?? plan.Status.LastSnapshot,
            LastSnapshotTime = snapshot.Latest is { } latest ? latest.Time : plan.Status.LastSnapshotTime,
        };
        if (plan.EnsureForks)
        {
            outcome = outcome with { Forks = await _forks.EnsureForksAsync(volume, observed.Signals, pool, ForkPlanner.IdleTimeout(pool, observed.Settings!), now, cancellationToken) };
        }

        if (plan.Growth is { } growth)
        {
            var used = await CollectGarbageAsync(volume, pool, plan.Prunes, now, cancellationToken) ?? outcome.UsedBytes ?? 0;
            var full = await GrowAsync(volume, pool, observed.Claim, growth, used, cancellationToken);
            outcome = outcome with
            {
                UsedBytes = used,
                GcRan = plan.Prunes.Count > 0,
                Space = ConditionChange.Set(VolumeFullCondition, full is not null, full is null ? "HasSpace" : "CannotGrow", full ?? "usage is within the volume's limits"),
            };
        }

        // Nothing else announces that a snapshot is due or that a fork went idle: come back then.
        var next = plan.Next;
        foreach (var due in new[] { snapshot.NextDue, plan.ForkRecheck })
        {
            if (due is { } d && (next.RequeueAfter <= TimeSpan.Zero || d + TimeSpan.FromSeconds(1) < next.RequeueAfter))
            {
                next = ReconcileResult.After(d + TimeSpan.FromSeconds(1));
            }
        }

        return (outcome, next);
    }

    /// <summary>
    /// Runs the prunes, then records the pass on the volume at once (an annotation merge patch,
    /// which no stale read can refuse): the retry after a failed status write finds nothing left to
    /// prune, and must still show the pass, on this operator or the next leader. Returns usage after them.
    /// </summary>
    private async Task<long?> CollectGarbageAsync(CacheVolume volume, BuilderPool pool, IReadOnlyList<GcPlanner.Prune> prunes, DateTime now, CancellationToken cancellationToken)
    {
        if (prunes.Count == 0)
        {
            return null;
        }

        using var client = connector.Connect(volume);
        long freed = 0;
        var count = 0;
        foreach (var prune in prunes)
        {
            await foreach (var record in client.PruneAsync(prune.Request, cancellationToken))
            {
                freed += record.Size;
                count++;
            }
        }

        var recorded = await caches.VolumeWriter.Client.PatchAsync(volume.Metadata.NamespaceProperty, volume.Metadata.Name,
            new { metadata = new { annotations = new Dictionary<string, string> { [WellKnown.LastGcAnnotation] = now.ToString("O") } } }, cancellationToken);
        volume.Metadata.ResourceVersion = recorded.Metadata.ResourceVersion;
        var poolTag = new KeyValuePair<string, object?>("pool", pool.Metadata.Name);
        metrics.Prunes.Add(prunes.Count, poolTag);
        metrics.FreedBytes.Add(freed, poolTag);
        var reasons = string.Join("; ", prunes.Select(p => p.Reason));
        Log.Pruned(logger, volume.Metadata.Name, count, freed, reasons);
        await events.RecordAsync(volume, "Normal", "Pruned", $"freed {Quantity.FormatApproximate(freed)} in {count} records: {reasons}", cancellationToken);
        return (await client.DiskUsageAsync(cancellationToken: cancellationToken)).Sum(r => r.Size);
    }

    /// <summary>Expands the claim when the growth rule says so; returns why the volume is full when it cannot grow.</summary>
    private async Task<string?> GrowAsync(CacheVolume volume, BuilderPool pool, V1PersistentVolumeClaim? claim, VolumeGrowth growth, long used, CancellationToken cancellationToken)
    {
        var verdict = growth.Decide(used);
        if (verdict.ExpandTo is not { } size || claim is null)
        {
            return verdict.Full;
        }

        var storageClass = await StorageClassOfAsync(claim, cancellationToken);
        if (storageClass?.AllowVolumeExpansion != true)
        {
            return growth.NotExpandable(used, storageClass?.Metadata.Name);
        }

        await caches.ClaimWriter.Client.PatchAsync(claim.Metadata.NamespaceProperty, claim.Metadata.Name,
            new { spec = new { resources = new { requests = new Dictionary<string, string> { ["storage"] = size } } } }, cancellationToken);
        Log.Grew(logger, volume.Metadata.Name, growth.CapacityText!, size);
        metrics.Grown.Add(1, new KeyValuePair<string, object?>("pool", pool.Metadata.Name));
        await events.RecordAsync(volume, "Normal", "Grew", $"expanded the cache volume from {growth.CapacityText} to {size}", cancellationToken);
        return null;
    }

    private async Task<V1StorageClass?> StorageClassOfAsync(V1PersistentVolumeClaim claim, CancellationToken cancellationToken)
    {
        if (claim.Spec.StorageClassName is { Length: > 0 } name)
        {
            return await caches.StorageClasses.GetAsync(null, name, cancellationToken);
        }

        var all = await caches.StorageClasses.ListAsync(cancellationToken: cancellationToken);
        return all.FirstOrDefault(c => c.Metadata.Annotations?.Lookup("storageclass.kubernetes.io/is-default-class") == "true");
    }

    private async Task DeleteAsync(CacheVolume volume, CacheVolumePlan.Deletion deletion, CancellationToken cancellationToken)
    {
        if (deletion.Cause == CacheVolumePlan.DeletionCause.ForkRetired)
        {
            await _forks.RetireAsync(volume, deletion.Detail, cancellationToken);
            return;
        }

        Log.Expired(logger, volume.Metadata.Name, deletion.Detail);
        await events.RecordAsync(volume, "Normal", "RetentionExpired", $"idle for {deletion.Detail}: removing the volume (reclaimPolicy Delete)", cancellationToken);
        await caches.VolumeWriter.DeleteAsync(volume, cancellationToken);
    }

    /// <summary>After the drain: the builder goes, the reclaim policy settles the claim, and the finalizer comes off.</summary>
    private async Task FinalizeAsync(CacheVolume volume, DateTime now, CancellationToken cancellationToken)
    {
        var ns = volume.Metadata.NamespaceProperty;
        if (caches.Deployments.Cache.Get(ns, ResourceNames.Builder(volume.Metadata.Name)) is { } deployment)
        {
            await caches.DeploymentWriter.DeleteAsync(deployment, cancellationToken);
        }

        // Read live when the cache has none: a claim it does not show yet must not be left behind.
        var claim = caches.Claims.Cache.Get(ns, ResourceNames.StateClaim(volume.Metadata.Name))
            ?? await caches.ClaimWriter.Client.GetAsync(ns, ResourceNames.StateClaim(volume.Metadata.Name), cancellationToken);
        switch (claim is null ? ClaimFate.Kept : CacheVolumePlanner.FateOf(claim, volume))
        {
            case ClaimFate.Delete:
                Log.ClaimDeleted(logger, claim!.Metadata.Name);
                await caches.ClaimWriter.DeleteAsync(claim, cancellationToken);
                break;
            case ClaimFate.MarkRetained:
                Log.ClaimRetained(logger, claim!.Metadata.Name);
                await caches.ClaimWriter.Client.PatchAsync(ns, claim.Metadata.Name,
                    new { metadata = new { annotations = new Dictionary<string, string> { [WellKnown.RetainedAnnotation] = now.ToString("O") } } }, cancellationToken);
                break;
        }

        await caches.VolumeWriter.Client.RemoveFinalizerAsync(volume, WellKnown.VolumeFinalizer, cancellationToken);
    }

    /// <summary>
    /// Gives the pool's rollout turn to <paramref name="volume"/> (null hands it back). The write
    /// carries the pool's resourceVersion: of two volumes taking the turn at once, one gets a
    /// conflict and is reconciled again.
    /// </summary>
    private async Task PassRolloutTurnAsync(BuilderPool pool, string? volume, CancellationToken cancellationToken) =>
        await caches.PoolClient.PatchAsync(pool.Metadata.NamespaceProperty, pool.Metadata.Name,
            new { metadata = new { resourceVersion = pool.Metadata.ResourceVersion, annotations = new Dictionary<string, string?> { [RolloutTurn.Annotation] = volume } } }, cancellationToken);

    private void LogDrain(CacheVolume volume, CacheVolumePlan.DrainState? drain)
    {
        if (drain?.ProbeError is { } error)
        {
            Log.DrainProbeFailed(logger, volume.Metadata.Name, error);
        }

        if (drain is { Wait: true })
        {
            Log.Draining(logger, volume.Metadata.Name, drain.Active, drain.Why);
        }
        else if (drain is { Active: > 0 })
        {
            Log.DrainDeadline(logger, volume.Metadata.Name, drain.Active);
        }
    }

    private async Task WriteStatusAsync(CacheVolumeObservation observed, CacheVolumeOutcome outcome, CancellationToken cancellationToken)
    {
        var cached = observed.Cached;
        var volume = observed.Volume;
        var status = CacheVolumeStatusCalculator.Compute(observed, outcome);
        if (StatusComparer.Same(cached.Status, status))
        {
            return;
        }

        volume.Status = status;
        await caches.VolumeWriter.Client.ReplaceStatusAsync(volume, cancellationToken);

        // Phase changes and a newly stalled spec are what `kubectl describe` readers look for;
        // recorded only after the status they describe was written.
        var result = outcome.Result;
        if (result.State == OutcomeState.Stalled && !Conditions.IsTrue(cached.Status.Conditions, Conditions.Stalled))
        {
            await events.RecordAsync(volume, "Warning", result.Reason, result.Message, cancellationToken);
        }
        else if (result.State != OutcomeState.Stalled && cached.Status.Phase != outcome.Phase)
        {
            await events.RecordAsync(volume, outcome.Phase == CacheVolumePhase.Failed ? "Warning" : "Normal", outcome.Phase.ToString(), result.Message, cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Draining builder of {Volume} for {Why}: {Active} builds still running")]
        public static partial void Draining(ILogger logger, string volume, int active, string why);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Drain deadline passed for {Volume} with {Active} builds running; stopping it")]
        public static partial void DrainDeadline(ILogger logger, string volume, int active);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ask the builder of {Volume} for running builds: {Reason}")]
        public static partial void DrainProbeFailed(ILogger logger, string volume, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Removing {Volume}: idle for {IdleFor}, past its retention")]
        public static partial void Expired(ILogger logger, string volume, string idleFor);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Count} records ({Freed} bytes) on {Volume}: {Reasons}")]
        public static partial void Pruned(ILogger logger, string volume, int count, long freed, string reasons);

        [LoggerMessage(Level = LogLevel.Information, Message = "Grew the claim of {Volume} from {From} to {To}")]
        public static partial void Grew(ILogger logger, string volume, string from, string to);

        [LoggerMessage(Level = LogLevel.Information, Message = "Deleting claim {Claim} (reclaimPolicy Delete)")]
        public static partial void ClaimDeleted(ILogger logger, string claim);

        [LoggerMessage(Level = LogLevel.Information, Message = "Keeping claim {Claim} (reclaimPolicy Retain)")]
        public static partial void ClaimRetained(ILogger logger, string claim);
    }
}
