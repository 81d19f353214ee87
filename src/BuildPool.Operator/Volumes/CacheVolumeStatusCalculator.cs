using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Status;

namespace BuildPool.Operator.Volumes;

/// <summary>Pure: a CacheVolume's status from what its reconcile observed and where it left the volume.</summary>
public static class CacheVolumeStatusCalculator
{
    public static CacheVolumeStatus Compute(CacheVolumeObservation observed, CacheVolumeOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(outcome);
        var volume = observed.Volume;
        var generation = volume.Metadata.Generation;
        var now = outcome.Now;
        var previous = observed.Cached.Status;
        var status = new CacheVolumeStatus
        {
            ObservedGeneration = generation,
            Conditions = Conditions.Copy(volume.Status.Conditions),
            Phase = outcome.Phase,
            Endpoint = ResourceNames.BuilderEndpoint(volume.Metadata.Name, volume.Metadata.NamespaceProperty, BuilderChildrenPlanner.BuildKitPort, ServesTls(observed)),
            Sharing = volume.Spec.Sharing ?? observed.Pool?.Spec.Cache.Sharing,
            Capacity = volume.Spec.Size ?? observed.Pool?.Spec.Cache.Volume.Size,
            UsedBytes = outcome.UsedBytes,
            ActiveBuilds = outcome.ActiveBuilds,
            // The gateway's heartbeat signal, shown in status for people and dashboards.
            LastUsed = BuilderScaling.Latest(previous.LastUsed, observed.Signals.Used is { } used ? StatusClock.Truncate(used) : null),
            LastGC = outcome.GcRan ? now : CacheVolumePlanner.LastGc(observed),
            CacheHitRatio = previous.CacheHitRatio,
            LastSnapshot = outcome.LastSnapshot,
            LastSnapshotTime = outcome.LastSnapshotTime,
            Forks = outcome.Forks,
        };
        foreach (var change in outcome.Conditions)
        {
            change.ApplyTo(status.Conditions, generation, now);
        }

        Conditions.SetOutcome(status.Conditions, outcome.Result, generation, now);
        Conditions.Set(status.Conditions, CacheVolumeReconciler.DrainingCondition, outcome.Draining, outcome.Draining ? "Draining" : "NotDraining",
            outcome.Draining ? "no new builds are routed here" : "accepting builds", generation, now);
        outcome.Space?.ApplyTo(status.Conditions, generation, now);
        return status;
    }

    // What the builder Deployment is configured to serve, not what the pool asks for: while a
    // change to TLS rolls through the pool, each builder is dialled the way it listens. Before the
    // Deployment exists (a TLS pool waits for its certificate first) the pool's setting is what it
    // will serve, so the status never advertises tcp:// for a builder that will only speak TLS.
    private static bool ServesTls(CacheVolumeObservation observed) =>
        observed.Deployment is { } builder
            ? builder.Spec?.Template?.Spec?.Volumes?.Any(v => v.Name == BuilderCredentialsPlanner.TlsVolume) == true
            : observed.Pool is { } pool && pool.Spec.Endpoint.Tls.Mode != TlsMode.Disabled;
}
