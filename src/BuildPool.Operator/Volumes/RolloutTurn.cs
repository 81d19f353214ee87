using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Status;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Pure: whose turn it is to restart for a configuration change. One builder of a pool restarts
/// at a time, so the pool keeps serving warm caches. Reconciles of one pool's volumes run on
/// different workers, and the cache they read lags their own writes, so statuses alone cannot
/// stop two volumes starting to drain in the same instant: the turn is an annotation on the
/// BuilderPool, taken with the pool's resourceVersion (a second taker gets a conflict). It lives
/// in the API, so an operator that becomes leader makes the decision its predecessor would have.
/// </summary>
public static class RolloutTurn
{
    /// <summary>On a BuilderPool: the name of the volume whose builder may restart now.</summary>
    public const string Annotation = "buildpool.dev/rollout-turn";

    public enum Decision
    {
        /// <summary>The volume holds the turn.</summary>
        Mine,

        /// <summary>The turn is free: the volume takes it before draining.</summary>
        Take,

        /// <summary>Another builder of the pool is restarting.</summary>
        Wait,
    }

    public static string? Holder(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.Metadata.Annotations?.TryGetValue(Annotation, out var holder) == true ? holder : null;
    }

    public static Decision Decide(BuilderPool pool, string volume, IReadOnlyList<CacheVolume> poolVolumes)
    {
        ArgumentNullException.ThrowIfNull(poolVolumes);
        if (poolVolumes.Any(v => v.Metadata.Name != volume && v.Status.Phase is CacheVolumePhase.Draining or CacheVolumePhase.Starting))
        {
            return Decision.Wait;
        }

        var holder = Holder(pool);
        if (holder == volume)
        {
            return Decision.Mine;
        }

        // A holder that is gone or stalled would otherwise keep every other builder on its old config.
        var held = holder is not null && poolVolumes.Any(v => v.Metadata.Name == holder
            && v.Metadata.DeletionTimestamp is null && !Conditions.IsTrue(v.Status.Conditions, Conditions.Stalled));
        return held ? Decision.Wait : Decision.Take;
    }
}
