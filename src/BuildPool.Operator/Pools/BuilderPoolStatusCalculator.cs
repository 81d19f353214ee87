using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Diagnosis;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Status;
using k8s.Models;

namespace BuildPool.Operator.Pools;

/// <summary>Pure: the pool's status from what the caches show.</summary>
public static class BuilderPoolStatusCalculator
{
    /// <summary>
    /// Condition type: True when the pool's builders trust only its internal CA, False (reason:
    /// the step) while a pool from before the internal CA moves to it.
    /// </summary>
    public const string BuilderTrustCondition = "BuilderTrust";

    /// <summary>The BuilderTrust condition's reason: the step, or InternalCaOnly once complete.</summary>
    public static string BuilderTrustReason(Security.BuilderTrustDecision trust)
    {
        ArgumentNullException.ThrowIfNull(trust);
        return trust.Done ? "InternalCaOnly" : trust.Step.ToString();
    }

    public static BuilderPoolStatus Compute(
        BuilderPool pool,
        BuilderPoolPlan? plan,
        IReadOnlyList<CacheVolume> volumes,
        V1Deployment? gateway,
        Outcome? outcome,
        DateTime now,
        out Outcome decided,
        Security.BuilderTrustDecision? trust = null,
        StartFailure? gatewayFailure = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(volumes);
        var live = volumes.Where(v => v.Metadata.DeletionTimestamp is null).ToList();
        var readyBuilders = live.Count(v => v.Status.Phase == CacheVolumePhase.Ready);
        var runningBuilders = live.Count(v => v.Status.Phase is CacheVolumePhase.Ready or CacheVolumePhase.Starting or CacheVolumePhase.Draining);
        var status = new BuilderPoolStatus
        {
            ObservedGeneration = pool.Metadata.Generation,
            Conditions = Conditions.Copy(pool.Status.Conditions),
            Endpoint = plan?.Endpoint ?? pool.Status.Endpoint,
            BuildxCommand = plan?.BuildxCommand ?? pool.Status.BuildxCommand,
            Volumes = live.Count,
            ReadyVolumes = live.Count(v => v.Status.Phase is CacheVolumePhase.Ready or CacheVolumePhase.Idle),
            FailedVolumes = live.Count(v => v.Status.Phase == CacheVolumePhase.Failed),
            Builders = runningBuilders,
            ReadyBuilders = readyBuilders,
            ActiveBuilds = live.Sum(v => v.Status.ActiveBuilds),
            QueuedBuilds = pool.Status.QueuedBuilds,
        };

        decided = outcome ?? Decide(pool, live, readyBuilders, gateway, gatewayFailure);
        if (plan is { UnmetDemand: > 0 } && decided.State != OutcomeState.Stalled)
        {
            // A few reasons, never all: tenants and their names are many, a condition message is bounded.
            var reasons = plan.Dedicated.Unmet.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var why = string.Join("; ", reasons.Take(3)) + (reasons.Count > 3 ? $"; and {reasons.Count - 3} more" : string.Empty);
            decided = decided with { Message = $"{decided.Message}; {plan.UnmetDemand} routing keys wait for a volume: {why}" };
        }

        Conditions.SetOutcome(status.Conditions, decided, pool.Metadata.Generation, now);
        if (pool.Spec.Endpoint.Tls.Mode == TlsMode.Disabled)
        {
            Conditions.Set(status.Conditions, Conditions.Warning, true, "UnauthenticatedEndpoint",
                "spec.endpoint.tls.mode is Disabled: anyone who can reach the endpoint can run builds", pool.Metadata.Generation, now);
        }
        else
        {
            Conditions.Remove(status.Conditions, Conditions.Warning);
        }

        if (pool.Spec.Endpoint.Tls.Mode == TlsMode.Disabled)
        {
            Conditions.Remove(status.Conditions, BuilderTrustCondition);
        }
        else if (trust is not null)
        {
            // Without a decision (a reconcile that stopped early) the last one stays.
            Conditions.Set(status.Conditions, BuilderTrustCondition, trust.Done, BuilderTrustReason(trust), trust.Message, pool.Metadata.Generation, now);
        }

        return status;
    }

    private static Outcome Decide(BuilderPool pool, IReadOnlyList<CacheVolume> volumes, int readyBuilders, V1Deployment? gateway, StartFailure? gatewayFailure)
    {
        // Without a gateway no build reaches any builder: that cause comes first.
        if (gatewayFailure is not null)
        {
            return Outcome.Stalled($"Gateway{gatewayFailure.Reason}", $"gateway {ResourceNames.Gateway(pool.Metadata.Name)}: {gatewayFailure.Message}");
        }

        var failed = volumes.Where(v => v.Status.Phase == CacheVolumePhase.Failed).ToList();
        if (failed.Count > 0)
        {
            // Nothing will change without a person once no builder runs; with some ready the pool
            // still serves builds and only the failing volumes wait.
            var summary = FailureSummary(failed, volumes.Count);
            return readyBuilders == 0 ? Outcome.Stalled("BuildersFailing", summary) : Outcome.Progressing("BuildersFailing", summary);
        }

        var wantedWarm = Math.Min(pool.Spec.Scaling.WarmBuilders, Math.Max(volumes.Count, pool.Spec.Assignment.Mode == AssignmentMode.Hashed ? pool.Spec.Assignment.Volumes : 0));
        if (readyBuilders < wantedWarm)
        {
            return Outcome.Progressing("BuildersStarting", $"{readyBuilders} of {wantedWarm} warm builders ready");
        }

        if ((gateway?.Status?.AvailableReplicas ?? 0) < 1)
        {
            return Outcome.Progressing("GatewayStarting", "waiting for the gateway to become available");
        }

        return Outcome.Ready("Ready", $"{readyBuilders} builders ready, {volumes.Count} cache volumes");
    }

    /// <summary>
    /// "2 of 3 cache volumes failing: ImagePullBackOff (ci-0, ci-1): cannot pull …": each reason
    /// once with a few volumes and the first volume's message, so the pool's condition says what
    /// to fix without listing every volume of a large pool.
    /// </summary>
    private static string FailureSummary(IReadOnlyList<CacheVolume> failed, int total)
    {
        var causes = failed
            .Select(v => (Volume: v.Metadata.Name, Condition: v.Status.Conditions?.FirstOrDefault(c => c.Type == Conditions.Stalled && c.Status == "True")))
            .GroupBy(f => f.Condition?.Reason ?? "Failed", StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var names = g.Select(f => f.Volume).Order(StringComparer.Ordinal).ToList();
                var shown = string.Join(", ", names.Take(3)) + (names.Count > 3 ? $" and {names.Count - 3} more" : string.Empty);
                var message = g.Select(f => f.Condition?.Message).FirstOrDefault(m => !string.IsNullOrEmpty(m));
                return $"{g.Key} ({shown}){(message is null ? string.Empty : ": " + message)}";
            })
            .ToList();
        return $"{failed.Count} of {total} cache volumes failing: {string.Join("; ", causes.Take(3))}{(causes.Count > 3 ? $"; and {causes.Count - 3} more causes" : string.Empty)}";
    }
}
