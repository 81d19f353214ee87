using System.Collections.Concurrent;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
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
/// </summary>
public sealed partial class CacheVolumeReconciler(
    OperatorCaches caches,
    OperatorOptions options,
    IBuilderConnector connector,
    RolloutGate rollouts,
    EventRecorder events,
    OperatorMetrics metrics,
    TimeProvider time,
    ILogger<CacheVolumeReconciler> logger)
    : IReconciler<CacheVolume>
{
    private readonly Snapshots.SnapshotScheduler _snapshots = new(caches.Snapshots, events, logger);
    private readonly Forks.ForkManager _forks = new(caches, new Forks.ForkLedger(time), events, logger);

    // GC passes that pruned but whose status write has not shown up in the cache yet (a 409 on a
    // stale cache fails that write after the records are gone): without this the retry finds
    // nothing to prune and status.lastGC never records the pass.
    private readonly ConcurrentDictionary<string, DateTime> _gcRuns = new(StringComparer.Ordinal);

    public const string DrainingCondition = "Draining";
    public const string VolumeFullCondition = "CacheVolumeFull";

    /// <summary>Per-cache-mount rules are applied at most this often; usage above the budget is pruned at once.</summary>
    public static readonly TimeSpan RuleInterval = TimeSpan.FromMinutes(10);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        var cached = caches.Volumes.Cache.Get(request.Namespace, request.Name);
        if (cached is null)
        {
            return ReconcileResult.Done;
        }

        var volume = ObjectCopy.DeepCopy(cached);
        var now = StatusClock.Now(time);
        if (volume.Metadata.DeletionTimestamp is not null)
        {
            return await FinalizeAsync(volume, now, cancellationToken);
        }

        volume = await caches.VolumeWriter.Client.AddFinalizerAsync(volume, WellKnown.VolumeFinalizer, cancellationToken);

        var pool = caches.Pools.Cache.Get(volume.Metadata.NamespaceProperty, volume.Spec.Pool);
        if (pool is null)
        {
            await WriteStatusAsync(cached, volume, CacheVolumePhase.Pending,
                Outcome.Stalled("PoolNotFound", $"spec.pool: BuilderPool \"{volume.Spec.Pool}\" not found in namespace {volume.Metadata.NamespaceProperty}"),
                activeBuilds: 0, usedBytes: null, draining: false, now, cancellationToken);
            return ReconcileResult.Done;
        }

        var ns = volume.Metadata.NamespaceProperty;
        var credentials = BuilderCredentialsPlanner.Plan(pool, caches.BindingsOf(ns, pool.Metadata.Name), secret => caches.SecretReader.Cached(ns, secret));
        if (credentials is null)
        {
            // TLS is on and the pool reconciler has not issued the builder certificate yet.
            await WriteStatusAsync(cached, volume, volume.Status.Phase ?? CacheVolumePhase.Pending,
                Outcome.Progressing("WaitingForCertificate", $"waiting for Secret {ResourceNames.BuilderTlsSecret(pool.Metadata.Name)}, the builders' certificate of BuilderPool {pool.Metadata.Name}"),
                volume.Status.ActiveBuilds, volume.Status.UsedBytes, draining: false, now, cancellationToken);
            return ReconcileResult.After(options.DrainPollInterval);
        }

        var settings = CacheVolumeSettings.Resolve(volume, pool, credentials);
        if (settings.Errors.Count > 0)
        {
            await WriteStatusAsync(cached, volume, CacheVolumePhase.Pending, Outcome.Stalled("InvalidSpec", string.Join("; ", settings.Errors)),
                activeBuilds: 0, usedBytes: null, draining: false, now, cancellationToken);
            return ReconcileResult.Done;
        }

        var missing = Pools.SecretChecks.Missing(pool, secret => caches.SecretReader.Cached(ns, secret));
        if (missing.Count > 0 && caches.Deployments.Cache.Get(volume.Metadata.NamespaceProperty, ResourceNames.Builder(volume.Metadata.Name)) is null)
        {
            await WriteStatusAsync(cached, volume, CacheVolumePhase.Pending,
                Outcome.Stalled("MissingSecret", $"BuilderPool {pool.Metadata.Name}: {string.Join("; ", missing)}"),
                activeBuilds: 0, usedBytes: null, draining: false, now, cancellationToken);
            return ReconcileResult.After(TimeSpan.FromSeconds(30));
        }

        var forkIdle = Forks.ForkPlanner.IdleTimeout(pool, settings);
        TimeSpan? forkRecheck = null;
        if (Forks.ForkPlanner.IsFork(volume))
        {
            var (retired, recheck) = await _forks.RetireIfDoneAsync(volume, forkIdle, now, cancellationToken);
            if (retired)
            {
                return ReconcileResult.Done;
            }

            forkRecheck = recheck;
        }

        if (RetentionLeft(volume, pool, now) is { } left && left <= TimeSpan.Zero)
        {
            var idleFor = GoDuration.Format(GoDuration.Parse(volume.Spec.Retention!.DeleteAfterIdle!) - left);
            Log.Expired(logger, volume.Metadata.Name, idleFor);
            await events.RecordAsync(volume, "Normal", "RetentionExpired", $"idle for {idleFor}: removing the volume (reclaimPolicy Delete)", cancellationToken);
            await caches.VolumeWriter.DeleteAsync(volume, cancellationToken);
            return ReconcileResult.Done;
        }

        var poolVolumes = caches.VolumesOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name);
        var decision = BuilderScaling.Decide(volume, pool, poolVolumes, settings.IdleTimeout, now);
        var plan = CacheVolumePlanner.Plan(volume, pool, settings.BuildkitdToml, decision.Running, credentials);
        var deployment = caches.Deployments.Cache.Get(volume.Metadata.NamespaceProperty, ResourceNames.Builder(volume.Metadata.Name));
        var podsRunning = (deployment?.Spec?.Replicas ?? 0) > 0 && (deployment?.Status?.Replicas ?? 0) > 0;
        var runningHash = deployment?.Spec?.Template?.Metadata?.Annotations?.Lookup(CacheVolumePlanner.PodTemplateHashAnnotation);
        var rollout = podsRunning && decision.Running && runningHash != plan.PodTemplateHash;
        var stop = podsRunning && !decision.Running;

        var poolKey = $"{pool.Metadata.NamespaceProperty}/{pool.Metadata.Name}";
        if (rollout && !CanRollOut(poolKey, volume.Metadata.Name, poolVolumes))
        {
            // Config changes roll one builder at a time, so the pool keeps serving warm caches.
            await WriteStatusAsync(cached, volume, volume.Status.Phase ?? CacheVolumePhase.Ready,
                Outcome.Progressing("RolloutWaiting", "waiting for another builder of the pool to finish its restart"),
                volume.Status.ActiveBuilds, volume.Status.UsedBytes, draining: false, now, cancellationToken);
            return ReconcileResult.After(options.DrainPollInterval);
        }

        if (rollout || stop)
        {
            var drain = await DrainAsync(cached, volume, now, rollout ? "a configuration change" : "idle", cancellationToken);
            if (drain is { } wait)
            {
                return wait;
            }
        }

        // A retained claim from an earlier pool of this name is adopted, and is retained no more.
        await ClaimApplier.ApplyAsync(caches.ClaimWriter, plan.Claim, verifyExisting: null, [WellKnown.RetainedAnnotation], cancellationToken);
        await caches.ConfigMapWriter.ApplyAsync(plan.Config, cancellationToken);
        await caches.ServiceWriter.ApplyAsync(plan.Service, cancellationToken);
        deployment = await caches.DeploymentWriter.ApplyAsync(plan.Builder, cancellationToken);
        var claimExists = caches.Claims.Cache.Get(volume.Metadata.NamespaceProperty, ResourceNames.StateClaim(volume.Metadata.Name)) is not null;
        var snapshotDue = await _snapshots.RunAsync(volume, pool, claimExists, now, cancellationToken);
        if (claimExists && !Forks.ForkPlanner.IsFork(volume))
        {
            await _forks.EnsureForksAsync(volume, pool, forkIdle, now, cancellationToken);
        }

        var result = await ObserveAsync(cached, volume, pool, settings, deployment, decision, now, cancellationToken);
        // Nothing else announces that a snapshot is due or that a fork went idle: come back then.
        foreach (var due in new[] { snapshotDue, forkRecheck })
        {
            if (due is { } d && (result.RequeueAfter <= TimeSpan.Zero || d + TimeSpan.FromSeconds(1) < result.RequeueAfter))
            {
                result = ReconcileResult.After(d + TimeSpan.FromSeconds(1));
            }
        }
        if (!rollout && !stop && rollouts.Holder(poolKey) == volume.Metadata.Name
            && (deployment.Status?.ReadyReplicas ?? 0) > 0 == decision.Running
            && deployment.Status?.ObservedGeneration >= deployment.Metadata.Generation)
        {
            rollouts.Exit(poolKey, volume.Metadata.Name);
        }

        return result;
    }

    private bool CanRollOut(string poolKey, string volume, IReadOnlyList<CacheVolume> poolVolumes)
    {
        var busy = poolVolumes.Any(v => v.Metadata.Name != volume && v.Status.Phase is CacheVolumePhase.Draining or CacheVolumePhase.Starting);
        return !busy && rollouts.TryEnter(poolKey, volume);
    }

    /// <summary>Marks the volume Draining and waits for its builds; null when the builder may stop now.</summary>
    private async Task<ReconcileResult?> DrainAsync(CacheVolume cached, CacheVolume volume, DateTime now, string why, CancellationToken cancellationToken)
    {
        var since = volume.Status.Conditions.FirstOrDefault(c => c.Type == DrainingCondition && c.Status == "True")?.LastTransitionTime ?? now;
        var active = await CountActiveBuildsAsync(volume, cancellationToken);
        if (active > 0 && now - since < options.DrainTimeout)
        {
            Log.Draining(logger, volume.Metadata.Name, active, why);
            await WriteStatusAsync(cached, volume, CacheVolumePhase.Draining,
                Outcome.Progressing("Draining", $"stopping for {why}: waiting for {active} running builds (deadline {since + options.DrainTimeout:O})"),
                active, volume.Status.UsedBytes, draining: true, now, cancellationToken);
            return ReconcileResult.After(options.DrainPollInterval);
        }

        if (active > 0)
        {
            Log.DrainDeadline(logger, volume.Metadata.Name, active);
        }

        return null;
    }

    private async Task<ReconcileResult> ObserveAsync(CacheVolume cached, CacheVolume volume, BuilderPool pool, CacheVolumeSettings settings, V1Deployment deployment, BuilderScaling.Decision decision, DateTime now, CancellationToken cancellationToken)
    {
        var endpointReady = (deployment.Status?.ReadyReplicas ?? 0) > 0;
        if (!decision.Running)
        {
            var stopped = (deployment.Status?.Replicas ?? 0) == 0;
            await WriteStatusAsync(cached, volume, stopped ? CacheVolumePhase.Idle : CacheVolumePhase.Draining,
                stopped ? Outcome.Ready("Idle", "builder stopped; the cache volume is kept") : Outcome.Progressing("Stopping", "builder is stopping"),
                0, volume.Status.UsedBytes, draining: false, now, cancellationToken);
            if (!stopped)
            {
                return ReconcileResult.After(options.DrainPollInterval);
            }

            // Nothing announces that a retention period ran out: come back when it does.
            return RetentionLeft(volume, pool, now) is { } left
                ? ReconcileResult.After(left > TimeSpan.Zero ? left + TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1))
                : ReconcileResult.Done;
        }

        if (!endpointReady)
        {
            await WriteStatusAsync(cached, volume, CacheVolumePhase.Starting, Outcome.Progressing("BuilderStarting", "waiting for the builder pod to become ready"),
                0, volume.Status.UsedBytes, draining: false, now, cancellationToken);
            return ReconcileResult.After(options.DrainPollInterval);
        }

        try
        {
            using var client = connector.Connect(volume);
            var workers = await client.ListWorkersAsync(cancellationToken);
            var usage = await client.DiskUsageAsync(cancellationToken: cancellationToken);
            var active = (await client.ListActiveBuildsAsync(cancellationToken)).Count;
            var version = workers.FirstOrDefault()?.BuildkitVersion?.Version ?? "unknown";
            var gc = await CollectGarbageAsync(client, cached, volume, pool, settings, usage, version, now, cancellationToken);
            var used = gc.Usage.Sum(r => r.Size);
            var full = await GrowIfNeededAsync(volume, pool, used, cancellationToken);
            await WriteStatusAsync(cached, volume, CacheVolumePhase.Ready,
                Outcome.Ready("BuilderReady", $"buildkitd {version} ready with {workers.Count} worker(s)"),
                active, used, draining: false, now, cancellationToken, status =>
                {
                    status.LastGC = gc.Ran ? now : status.LastGC;
                    Conditions.Set(status.Conditions, VolumeFullCondition, full is not null, full is null ? "HasSpace" : "CannotGrow",
                        full ?? "usage is within the volume's limits", volume.Metadata.Generation, now);
                });
            var next = decision.RecheckAfter is { } r && r < options.ProbeInterval ? r : options.ProbeInterval;
            return ReconcileResult.After(next);
        }
        catch (BuildKitUnavailableException ex)
        {
            await WriteStatusAsync(cached, volume, CacheVolumePhase.Starting, Outcome.Progressing("BuilderUnreachable", ex.Message),
                0, volume.Status.UsedBytes, draining: false, now, cancellationToken);
            return ReconcileResult.After(options.DrainPollInterval);
        }
    }

    private async Task<ReconcileResult> FinalizeAsync(CacheVolume volume, DateTime now, CancellationToken cancellationToken)
    {
        if (!Finalizers.Has(volume, WellKnown.VolumeFinalizer))
        {
            return ReconcileResult.Done;
        }

        var ns = volume.Metadata.NamespaceProperty;
        var deployment = caches.Deployments.Cache.Get(ns, ResourceNames.Builder(volume.Metadata.Name));
        if (deployment is not null && (deployment.Status?.Replicas ?? 0) > 0)
        {
            var drain = await DrainAsync(volume, ObjectCopy.DeepCopy(volume), now, "deletion", cancellationToken);
            if (drain is { } wait)
            {
                return wait;
            }
        }

        if (deployment is not null)
        {
            await caches.DeploymentWriter.DeleteAsync(deployment, cancellationToken);
        }

        var claim = caches.Claims.Cache.Get(ns, ResourceNames.StateClaim(volume.Metadata.Name))
            ?? await caches.ClaimWriter.Client.GetAsync(ns, ResourceNames.StateClaim(volume.Metadata.Name), cancellationToken);
        if (claim is not null)
        {
            var policy = claim.Metadata.Labels?.Lookup(CacheVolumePlanner.ReclaimPolicyLabel);
            if (policy == nameof(ReclaimPolicy.Delete))
            {
                Log.ClaimDeleted(logger, claim.Metadata.Name);
                await caches.ClaimWriter.DeleteAsync(claim, cancellationToken);
            }
            else if (claim.Metadata.Annotations?.ContainsKey(WellKnown.RetainedAnnotation) != true)
            {
                // Retain (and anything unknown: losing a cache is the one mistake we never make).
                Log.ClaimRetained(logger, claim.Metadata.Name);
                await caches.ClaimWriter.Client.PatchAsync(ns, claim.Metadata.Name,
                    new { metadata = new { annotations = new Dictionary<string, string> { [WellKnown.RetainedAnnotation] = now.ToString("O") } } }, cancellationToken);
            }
        }

        _gcRuns.TryRemove(GcKey(volume), out _);
        await caches.VolumeWriter.Client.RemoveFinalizerAsync(volume, WellKnown.VolumeFinalizer, cancellationToken);
        return ReconcileResult.Done;
    }

    /// <summary>
    /// Volume retention: a volume of a <c>Delete</c> pool whose builder is stopped and that has
    /// not been used for <c>spec.retention.deleteAfterIdle</c> is removed. <c>Retain</c> volumes,
    /// volumes with a running or draining builder, and the volumes a Hashed pool's plan needs
    /// (it would only create them again) are never removed here.
    /// </summary>
    private static TimeSpan? RetentionLeft(CacheVolume volume, BuilderPool pool, DateTime now)
    {
        if (pool.Spec.Cache.ReclaimPolicy != ReclaimPolicy.Delete
            || volume.Spec.Retention?.DeleteAfterIdle is not { } text
            || !GoDuration.TryParse(text, out var keep, out _)
            || volume.Status.Phase != CacheVolumePhase.Idle
            || volume.Status.ActiveBuilds > 0)
        {
            return null;
        }

        var owner = volume.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        if (owner?.Uid == pool.Metadata.Uid && pool.Spec.Assignment.Mode == AssignmentMode.Hashed)
        {
            return null;
        }

        var lastUsed = BuilderScaling.Latest(volume.Status.LastUsed, BuilderScaling.Annotation(volume, WellKnown.LastUsedAnnotation)) ?? volume.Metadata.CreationTimestamp;
        return lastUsed is { } used ? keep - (now - used) : null;
    }

    private sealed record GcResult(bool Ran, IReadOnlyList<BuildKit.Protocol.UsageRecord> Usage);

    private static string GcKey(CacheVolume volume) => $"{volume.Metadata.NamespaceProperty}/{volume.Metadata.Name}";

    /// <summary>The last GC pass: the status's, or a later one this process ran whose status write has not been seen yet.</summary>
    private DateTime? LastGc(CacheVolume cached)
    {
        var key = GcKey(cached);
        if (!_gcRuns.TryGetValue(key, out var ran))
        {
            return cached.Status.LastGC;
        }

        if (cached.Status.LastGC is { } shown && shown >= ran)
        {
            _gcRuns.TryRemove(KeyValuePair.Create(key, ran));
            return shown;
        }

        return ran;
    }

    private async Task<GcResult> CollectGarbageAsync(BuildKitClient client, CacheVolume cached, CacheVolume volume, BuilderPool pool, CacheVolumeSettings settings,
        IReadOnlyList<BuildKit.Protocol.UsageRecord> usage, string version, DateTime now, CancellationToken cancellationToken)
    {
        if (settings.Budget is null)
        {
            return new GcResult(false, usage);
        }

        var daemon = Rendering.BuildkitVersion.TryParse(version, out var v) ? v : (Rendering.BuildkitVersion?)null;
        var prunes = GcPlanner.Plan(usage, pool.Spec.Cache.CacheMounts?.ToList() ?? [], settings.Budget, daemon, now);
        var rulesDue = LastGc(cached) is not { } last || now - last >= RuleInterval;
        prunes = prunes.Where(p => rulesDue || p.Request.MaxUsedSpace > 0 || p.Request.Filter.Count == 0).ToList();
        if (prunes.Count == 0)
        {
            return new GcResult(false, usage);
        }

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

        _gcRuns[GcKey(cached)] = now;
        var poolTag = new KeyValuePair<string, object?>("pool", pool.Metadata.Name);
        metrics.Prunes.Add(prunes.Count, poolTag);
        metrics.FreedBytes.Add(freed, poolTag);
        var reasons = string.Join("; ", prunes.Select(p => p.Reason));
        Log.Pruned(logger, volume.Metadata.Name, count, freed, reasons);
        await events.RecordAsync(volume, "Normal", "Pruned",
            $"freed {Quantity.FormatApproximate(freed)} in {count} records: {reasons}", cancellationToken);
        return new GcResult(true, await client.DiskUsageAsync(cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Auto-grow: when usage stays above the threshold after pruning, expand the claim by the step
    /// up to the maximum. Returns why the volume is full when it cannot grow, null otherwise.
    /// </summary>
    private async Task<string?> GrowIfNeededAsync(CacheVolume volume, BuilderPool pool, long used, CancellationToken cancellationToken)
    {
        var claim = caches.Claims.Cache.Get(volume.Metadata.NamespaceProperty, ResourceNames.StateClaim(volume.Metadata.Name));
        var capacityText = claim?.Spec?.Resources?.Requests?.Lookup("storage")?.ToString();
        if (capacityText is null || !Quantity.TryParse(capacityText, out var capacity, out _) || capacity <= 0)
        {
            return null;
        }

        var grow = pool.Spec.Cache.AutoGrow;
        var threshold = grow is not null && QuantityOrPercent.TryParse(grow.Threshold, out var t, out _) ? t.Resolve(capacity) : capacity;
        if (used <= threshold)
        {
            return null;
        }

        if (grow is null)
        {
            return $"usage {Quantity.FormatApproximate(used)} of {capacityText} after pruning, and spec.cache.autoGrow is not set";
        }

        var step = QuantityOrPercent.TryParse(grow.Step, out var s, out _) ? s.Resolve(capacity) : 0;
        var max = Quantity.TryParse(grow.MaxSize, out var m, out _) ? m : capacity;
        var target = Math.Min(capacity + Math.Max(step, 1L << 30), max);
        if (target <= capacity)
        {
            return $"usage {Quantity.FormatApproximate(used)} of {capacityText} after pruning, and spec.cache.autoGrow.maxSize ({grow.MaxSize}) is reached";
        }

        var storageClass = await StorageClassOfAsync(claim!, cancellationToken);
        if (storageClass?.AllowVolumeExpansion != true)
        {
            return $"usage {Quantity.FormatApproximate(used)} of {capacityText} after pruning, and StorageClass {storageClass?.Metadata.Name ?? "(default)"} does not allow volume expansion";
        }

        var size = Quantity.Format(target);
        await caches.ClaimWriter.Client.PatchAsync(claim!.Metadata.NamespaceProperty, claim.Metadata.Name,
            new { spec = new { resources = new { requests = new Dictionary<string, string> { ["storage"] = size } } } }, cancellationToken);
        Log.Grew(logger, volume.Metadata.Name, capacityText, size);
        metrics.Grown.Add(1, new KeyValuePair<string, object?>("pool", pool.Metadata.Name));
        await events.RecordAsync(volume, "Normal", "Grew", $"expanded the cache volume from {capacityText} to {size}", cancellationToken);
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

    private async Task<int> CountActiveBuildsAsync(CacheVolume volume, CancellationToken cancellationToken)
    {
        try
        {
            using var client = connector.Connect(volume);
            return (await client.ListActiveBuildsAsync(cancellationToken)).Count;
        }
        catch (BuildKitUnavailableException ex)
        {
            // A daemon that cannot answer is not running builds anyone could finish.
            Log.DrainProbeFailed(logger, volume.Metadata.Name, ex.Message);
            return 0;
        }
    }

    private async Task WriteStatusAsync(CacheVolume cached, CacheVolume volume, CacheVolumePhase phase, Outcome outcome, int activeBuilds, long? usedBytes, bool draining, DateTime now, CancellationToken cancellationToken, Action<CacheVolumeStatus>? adjust = null)
    {
        var pool = caches.Pools.Cache.Get(volume.Metadata.NamespaceProperty, volume.Spec.Pool);
        var status = new CacheVolumeStatus
        {
            ObservedGeneration = volume.Metadata.Generation,
            // The reconcile's own copy: steps before this one (snapshots) may have set conditions.
            Conditions = Conditions.Copy(volume.Status.Conditions),
            Phase = phase,
            Endpoint = ResourceNames.BuilderEndpoint(volume.Metadata.Name, volume.Metadata.NamespaceProperty, CacheVolumePlanner.BuildKitPort, ServesTls(volume, pool)),
            Capacity = volume.Spec.Size ?? pool?.Spec.Cache.Volume.Size,
            UsedBytes = usedBytes,
            ActiveBuilds = activeBuilds,
            // The gateway's heartbeat annotation, shown in status for people and dashboards.
            LastUsed = BuilderScaling.Latest(cached.Status.LastUsed, BuilderScaling.Annotation(volume, WellKnown.LastUsedAnnotation) is { } used ? StatusClock.Truncate(used) : null),
            LastGC = LastGc(cached),
            CacheHitRatio = cached.Status.CacheHitRatio,
            LastSnapshot = volume.Status.LastSnapshot,
            LastSnapshotTime = volume.Status.LastSnapshotTime,
            Forks = volume.Status.Forks,
        };
        Conditions.SetOutcome(status.Conditions, outcome, volume.Metadata.Generation, now);
        Conditions.Set(status.Conditions, DrainingCondition, draining, draining ? "Draining" : "NotDraining",
            draining ? "no new builds are routed here" : "accepting builds", volume.Metadata.Generation, now);
        adjust?.Invoke(status);
        if (StatusComparer.Same(cached.Status, status))
        {
            return;
        }

        volume.Status = status;
        await caches.VolumeWriter.Client.ReplaceStatusAsync(volume, cancellationToken);

        // Phase changes and a newly stalled spec are what `kubectl describe` readers look for;
        // recorded only after the status they describe was written.
        var stalled = outcome.State == OutcomeState.Stalled;
        if (stalled && !Conditions.IsTrue(cached.Status.Conditions, Conditions.Stalled))
        {
            await events.RecordAsync(volume, "Warning", outcome.Reason, outcome.Message, cancellationToken);
        }
        else if (!stalled && cached.Status.Phase != phase)
        {
            await events.RecordAsync(volume, phase == CacheVolumePhase.Failed ? "Warning" : "Normal", phase.ToString(), outcome.Message, cancellationToken);
        }
    }

    // What the builder Deployment is configured to serve, not what the pool asks for: while a
    // change to TLS rolls through the pool, each builder is dialled the way it listens. Before the
    // Deployment exists (a TLS pool waits for its certificate first) the pool's setting is what it
    // will serve, so the status never advertises tcp:// for a builder that will only speak TLS.
    private bool ServesTls(CacheVolume volume, BuilderPool? pool) =>
        caches.Deployments.Cache.Get(volume.Metadata.NamespaceProperty, ResourceNames.Builder(volume.Metadata.Name)) is { } builder
            ? builder.Spec?.Template?.Spec?.Volumes?.Any(v => v.Name == BuilderCredentialsPlanner.TlsVolume) == true
            : pool is not null && pool.Spec.Endpoint.Tls.Mode != TlsMode.Disabled;

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
