using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Status;
using k8s.Models;

namespace BuildPool.Operator.Pools;

/// <summary>Pure: the pool's status from what the caches show.</summary>
public static class BuilderPoolStatusCalculator
{
    public static BuilderPoolStatus Compute(
        BuilderPool pool,
        BuilderPoolPlan? plan,
        IReadOnlyList<CacheVolume> volumes,
        V1Deployment? gateway,
        Outcome? outcome,
        DateTime now,
        out Outcome decided)
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
            Builders = runningBuilders,
            ReadyBuilders = readyBuilders,
            ActiveBuilds = live.Sum(v => v.Status.ActiveBuilds),
            QueuedBuilds = pool.Status.QueuedBuilds,
        };

        decided = outcome ?? Decide(pool, live, readyBuilders, gateway);
        if (plan is { UnmetDemand: > 0 } && decided.State != OutcomeState.Stalled)
        {
            decided = decided with { Message = $"{decided.Message}; {plan.UnmetDemand} routing keys wait for a volume: spec.assignment.maxVolumes ({pool.Spec.Assignment.MaxVolumes}) reached" };
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

        return status;
    }

    private static Outcome Decide(BuilderPool pool, IReadOnlyList<CacheVolume> volumes, int readyBuilders, V1Deployment? gateway)
    {
        var failed = volumes.Where(v => v.Status.Phase == CacheVolumePhase.Failed).Select(v => v.Metadata.Name).ToList();
        if (failed.Count > 0)
        {
            return Outcome.Progressing("BuildersFailing", $"cache volumes failing: {string.Join(", ", failed)}");
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
}
