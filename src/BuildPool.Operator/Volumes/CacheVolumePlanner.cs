using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Diagnosis;
using BuildPool.Operator.Forks;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Rendering;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Controllers;
using k8s.Models;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Pure: what one CacheVolume reconcile does, from what it observed. In order: a volume being
/// deleted drains and is finalized; a volume whose pool, certificate, settings or Secrets are
/// missing stops with a status saying so; a fork that is done and a volume past its retention
/// are deleted; a builder that must restart for a new configuration waits for the pool's rollout
/// turn; one that restarts or stops drains first; then the children are written, and a ready
/// builder is pruned and grown.
/// </summary>
public static class CacheVolumePlanner
{
    /// <summary>Per-cache-mount rules are applied at most this often; usage above the budget is pruned at once.</summary>
    public static readonly TimeSpan RuleInterval = TimeSpan.FromMinutes(10);

    // A named Secret arriving enqueues the volume; this recheck is only a backstop.
    private static readonly TimeSpan MissingSecretRecheck = TimeSpan.FromSeconds(30);

    /// <summary>How often a volume stalled on a claim that is not its own looks at the claim again.</summary>
    public static readonly TimeSpan ClaimConflictRecheck = TimeSpan.FromSeconds(30);

    public static CacheVolumePlan Plan(CacheVolumeObservation observed, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var volume = observed.Volume;
        if (volume.Metadata.DeletionTimestamp is not null)
        {
            return Finalizing(observed, now);
        }

        var poll = ReconcileResult.After(observed.Options.DrainPollInterval);
        var status = volume.Status;
        if (observed.Pool is not { } pool)
        {
            return Stop(Halt(status, CacheVolumePhase.Pending, now, Outcome.Stalled("PoolNotFound", $"spec.pool: BuilderPool \"{volume.Spec.Pool}\" not found in namespace {volume.Metadata.NamespaceProperty}")), ReconcileResult.Done);
        }

        if (observed.Credentials is null || observed.Settings is not { } settings)
        {
            // TLS is on and the pool reconciler has not issued the builder certificate yet.
            return Stop(Keep(status, status.Phase ?? CacheVolumePhase.Pending, now, Outcome.Progressing("WaitingForCertificate", $"waiting for Secret {ResourceNames.BuilderTlsSecret(pool.Metadata.Name)}, the builders' certificate of BuilderPool {pool.Metadata.Name}")), poll);
        }

        if (settings.Errors.Count > 0)
        {
            return Stop(Halt(status, CacheVolumePhase.Pending, now, Outcome.Stalled("InvalidSpec", string.Join("; ", settings.Errors))), ReconcileResult.Done);
        }

        if (observed.MissingSecrets.Count > 0 && observed.Deployment is null)
        {
            return Stop(Halt(status, CacheVolumePhase.Pending, now, Outcome.Stalled("MissingSecret", $"BuilderPool {pool.Metadata.Name}: {string.Join("; ", observed.MissingSecrets)}")), ReconcileResult.After(MissingSecretRecheck));
        }

        if (observed.Claim is { } claim && ClaimAdoption.Conflict(claim, volume) is { } conflict)
        {
            // Nothing announces that someone deleted or labelled the claim: look again now and then.
            return Stop(Halt(status, CacheVolumePhase.Pending, now, Outcome.Stalled(ClaimAdoption.ConflictReason, conflict)), ReconcileResult.After(ClaimConflictRecheck));
        }

        var fork = ForkPlanner.IsFork(volume) ? ForkRetirement.Decide(volume, observed.Signals, observed.ForkBase, observed.ForkBaseSignals, ForkPlanner.IdleTimeout(pool, settings), now) : null;
        if (fork?.Why is { } done)
        {
            return new CacheVolumePlan { Delete = new CacheVolumePlan.Deletion(CacheVolumePlan.DeletionCause.ForkRetired, done) };
        }

        if (RetentionLeft(volume, pool, observed.Signals, now) is { } left && left <= TimeSpan.Zero)
        {
            var idleFor = GoDuration.Format(GoDuration.Parse(volume.Spec.Retention!.DeleteAfterIdle!) - left);
            return new CacheVolumePlan { Delete = new CacheVolumePlan.Deletion(CacheVolumePlan.DeletionCause.RetentionExpired, idleFor) };
        }

        IReadOnlyList<ConditionChange> seeded = fork?.Seeded is { } s ? [s] : [];
        return Serve(observed, pool, settings, now, seeded) with { ForkRecheck = fork?.Recheck };
    }

    /// <summary>
    /// A valid volume: start, stop or restart its builder (a restart waits for the pool's turn,
    /// and both drain first), write its children, then say how the builder is doing.
    /// </summary>
    private static CacheVolumePlan Serve(CacheVolumeObservation observed, BuilderPool pool, CacheVolumeSettings settings, DateTime now, IReadOnlyList<ConditionChange> seeded)
    {
        var volume = observed.Volume;
        var status = volume.Status;
        var poll = ReconcileResult.After(observed.Options.DrainPollInterval);
        var decision = BuilderScaling.Decide(volume, pool, observed.PoolVolumes, observed.Signals, settings.IdleTimeout, now);
        var children = BuilderChildrenPlanner.Plan(volume, pool, settings.BuildkitdToml, decision.Running, observed.Credentials, PullSecrets.For(observed.Options));
        var deployment = observed.Deployment;
        var podsRunning = (deployment?.Spec?.Replicas ?? 0) > 0 && (deployment?.Status?.Replicas ?? 0) > 0;
        var runningHash = deployment?.Spec?.Template?.Metadata?.Annotations?.Lookup(BuilderChildrenPlanner.PodTemplateHashAnnotation);
        var rollout = podsRunning && decision.Running && runningHash != children.PodTemplateHash;
        var stop = podsRunning && !decision.Running;
        var turn = rollout ? RolloutTurn.Decide(pool, volume.Metadata.Name, observed.PoolVolumes) : RolloutTurn.Decision.Mine;
        if (turn == RolloutTurn.Decision.Wait)
        {
            return Stop(Keep(status, status.Phase ?? CacheVolumePhase.Ready, now, Outcome.Progressing("RolloutWaiting", "waiting for another builder of the pool to finish its restart")) with { Conditions = seeded }, poll);
        }

        var drain = rollout || stop ? Drain(observed, now, rollout ? "a configuration change" : "idle") : null;
        var plan = new CacheVolumePlan { Drain = drain, TakeRolloutTurn = turn == RolloutTurn.Decision.Take };
        if (drain is { Wait: true })
        {
            return plan with { Status = Draining(observed, drain, now) with { Conditions = seeded }, Next = poll };
        }

        var ready = (deployment?.Status?.ReadyReplicas ?? 0) > 0;
        var (outcome, next) = BuilderState(observed, pool, decision, ready, now);
        var measured = outcome.Phase == CacheVolumePhase.Ready;
        return plan with
        {
            Status = outcome with { Conditions = seeded },
            Next = next,
            Children = children,
            EnsureForks = observed.Claim is not null && !ForkPlanner.IsFork(volume),
            Prunes = measured ? Prunes(observed, pool, settings, now) : [],
            Growth = measured ? VolumeGrowth.For(observed.Claim, pool.Spec.Cache.AutoGrow) : null,
            ReleaseRolloutTurn = !rollout && !stop && RolloutTurn.Holder(pool) == volume.Metadata.Name
                && ready == decision.Running && deployment?.Status?.ObservedGeneration >= deployment?.Metadata.Generation,
        };
    }

    /// <summary>The builder's state once its children are written: stopped, stopping, starting, unreachable or ready.</summary>
    private static (CacheVolumeOutcome Outcome, ReconcileResult Next) BuilderState(CacheVolumeObservation observed, BuilderPool pool, BuilderScaling.Decision decision, bool ready, DateTime now)
    {
        var status = observed.Volume.Status;
        var poll = ReconcileResult.After(observed.Options.DrainPollInterval);
        if (!decision.Running)
        {
            if ((observed.Deployment?.Status?.Replicas ?? 0) > 0)
            {
                return (Keep(status, CacheVolumePhase.Draining, now, Outcome.Progressing("Stopping", "builder is stopping")) with { ActiveBuilds = 0 }, poll);
            }

            // Nothing announces that a retention period ran out: come back when it does.
            var idle = Keep(status, CacheVolumePhase.Idle, now, Outcome.Ready("Idle", "builder stopped; the cache volume is kept")) with { ActiveBuilds = 0 };
            return (idle, RetentionLeft(observed.Volume, pool, observed.Signals, now) is { } left
                ? ReconcileResult.After(left > TimeSpan.Zero ? left + TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1))
                : ReconcileResult.Done);
        }

        if (!ready)
        {
            // A cause Kubernetes reports (an image that cannot be pulled, a claim that cannot bind,
            // a pod the API refuses) will not go away by waiting: say it, and keep looking.
            if (StartDiagnosis.Diagnose(Workload.Builder, observed.Deployment, observed.Start) is { } failure)
            {
                return (Keep(status, CacheVolumePhase.Failed, now, Outcome.Stalled(failure.Reason, failure.Message)) with { ActiveBuilds = 0 }, poll);
            }

            return (Keep(status, CacheVolumePhase.Starting, now, Outcome.Progressing("BuilderStarting", "waiting for the builder pod to become ready")) with { ActiveBuilds = 0 }, poll);
        }

        if (observed.Probe is not { Error: null } probe)
        {
            var error = observed.Probe?.Error ?? "no builder pod answered";
            return (Keep(status, CacheVolumePhase.Starting, now, Outcome.Progressing("BuilderUnreachable", error)) with { ActiveBuilds = 0 }, poll);
        }

        var outcome = Halt(status, CacheVolumePhase.Ready, now, Outcome.Ready("BuilderReady", $"buildkitd {probe.Version} ready with {probe.Workers} worker(s)")) with
        {
            ActiveBuilds = probe.ActiveBuilds ?? 0,
            UsedBytes = probe.Usage.Sum(r => r.Size),
        };
        var interval = observed.Options.ProbeInterval;
        return (outcome, ReconcileResult.After(decision.RecheckAfter is { } r && r < interval ? r : interval));
    }

    /// <summary>A volume being deleted: its builder drains, then goes; the finalizer decides the claim's fate.</summary>
    private static CacheVolumePlan Finalizing(CacheVolumeObservation observed, DateTime now)
    {
        if (!Finalizers.Has(observed.Volume, WellKnown.VolumeFinalizer))
        {
            return new CacheVolumePlan();
        }

        // A builder with no ready replica runs no builds: its stop proceeds at once.
        var drain = (observed.Deployment?.Status?.ReadyReplicas ?? 0) > 0 ? Drain(observed, now, "deletion") : null;
        return drain is { Wait: true }
            ? new CacheVolumePlan { Drain = drain, Status = Draining(observed, drain, now), Next = ReconcileResult.After(observed.Options.DrainPollInterval) }
            : new CacheVolumePlan { Drain = drain, Finalize = true };
    }

    /// <summary>What a drain waits for: the builds the daemon says run, until the deadline.</summary>
    private static CacheVolumePlan.DrainState Drain(CacheVolumeObservation observed, DateTime now, string why)
    {
        var since = observed.Volume.Status.Conditions.FirstOrDefault(c => c.Type == CacheVolumeReconciler.DrainingCondition && c.Status == "True")?.LastTransitionTime ?? now;
        var deadline = since + observed.Options.DrainTimeout;
        // A daemon that cannot answer is not running builds anyone could finish.
        var active = observed.Probe?.ActiveBuilds ?? 0;
        var probeError = observed.Probe is { ActiveBuilds: null } failed ? failed.Error : null;
        return new CacheVolumePlan.DrainState(why, active, deadline, active > 0 && now < deadline, probeError);
    }

    private static CacheVolumeOutcome Draining(CacheVolumeObservation observed, CacheVolumePlan.DrainState drain, DateTime now)
    {
        var message = $"stopping for {drain.Why}: waiting for {drain.Active} running builds (deadline {drain.Deadline:O})";
        return Keep(observed.Volume.Status, CacheVolumePhase.Draining, now, Outcome.Progressing("Draining", message)) with { ActiveBuilds = drain.Active, Draining = true };
    }

    /// <summary>
    /// The targeted prunes the ready builder needs: per-cache-mount rules at most every
    /// <see cref="RuleInterval"/> since the last GC pass (as the volume records it), and usage
    /// above the budget at once.
    /// </summary>
    private static List<GcPlanner.Prune> Prunes(CacheVolumeObservation observed, BuilderPool pool, CacheVolumeSettings settings, DateTime now)
    {
        if (settings.Budget is null || observed.Probe is not { } probe)
        {
            return [];
        }

        var daemon = BuildkitVersion.TryParse(probe.Version, out var v) ? v : (BuildkitVersion?)null;
        var rulesDue = LastGc(observed) is not { } last || now - last >= RuleInterval;
        return GcPlanner.Plan(probe.Usage, pool.Spec.Cache.CacheMounts?.ToList() ?? [], settings.Budget, daemon, now)
            .Where(p => rulesDue || p.Request.MaxUsedSpace > 0 || p.Request.Filter.Count == 0)
            .ToList();
    }

    /// <summary>
    /// Volume retention: a volume of a <c>Delete</c> pool whose builder is stopped and that has
    /// not been used for <c>spec.retention.deleteAfterIdle</c> is removed. <c>Retain</c> volumes,
    /// volumes with a running or draining builder, and the volumes a Hashed pool's plan needs
    /// (it would only create them again) are never removed here.
    /// </summary>
    public static TimeSpan? RetentionLeft(CacheVolume volume, BuilderPool pool, VolumeSignals signals, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentNullException.ThrowIfNull(pool);
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

        var lastUsed = BuilderScaling.Latest(volume.Status.LastUsed, signals.Used) ?? volume.Metadata.CreationTimestamp;
        return lastUsed is { } used ? keep - (now - used) : null;
    }

    /// <summary>The last GC pass: the one status shows, or a later one recorded on the volume whose status write has not happened yet.</summary>
    public static DateTime? LastGc(CacheVolumeObservation observed)
    {
        ArgumentNullException.ThrowIfNull(observed);
        var recorded = BuilderScaling.Annotation(observed.Volume, WellKnown.LastGcAnnotation) is { } at ? StatusClock.Truncate(at) : (DateTime?)null;
        return BuilderScaling.Latest(observed.Cached.Status.LastGC, recorded);
    }

    /// <summary>
    /// What happens to a deleted volume's claim: a claim that is not the volume's is not touched;
    /// its reclaim-policy label decides; anything unknown is kept.
    /// </summary>
    public static ClaimFate FateOf(V1PersistentVolumeClaim claim, CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(volume);
        if (ClaimAdoption.Conflict(claim, volume) is not null)
        {
            return ClaimFate.Kept;
        }

        if (claim.Metadata.Labels?.Lookup(BuilderChildrenPlanner.ReclaimPolicyLabel) == nameof(ReclaimPolicy.Delete))
        {
            return ClaimFate.Delete;
        }

        // Retain (and anything unknown: losing a cache is the one mistake we never make).
        return claim.Metadata.Annotations?.ContainsKey(WellKnown.RetainedAnnotation) == true ? ClaimFate.Kept : ClaimFate.MarkRetained;
    }

    private static CacheVolumePlan Stop(CacheVolumeOutcome status, ReconcileResult next) => new() { Status = status, Next = next };

    /// <summary>A status that knows nothing of the builder (no builds, no usage); snapshots and forks stay as they were.</summary>
    private static CacheVolumeOutcome Halt(CacheVolumeStatus status, CacheVolumePhase phase, DateTime now, Outcome outcome) =>
        new(phase, outcome, now) { LastSnapshot = status.LastSnapshot, LastSnapshotTime = status.LastSnapshotTime, Forks = status.Forks };

    /// <summary>A status that also keeps what the last one said about builds and usage.</summary>
    private static CacheVolumeOutcome Keep(CacheVolumeStatus status, CacheVolumePhase phase, DateTime now, Outcome outcome) =>
        Halt(status, phase, now, outcome) with { ActiveBuilds = status.ActiveBuilds, UsedBytes = status.UsedBytes };
}
