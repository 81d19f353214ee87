using BuildPool.Runtime.Controllers;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// What one CacheVolume reconcile does, decided without I/O by <see cref="CacheVolumePlanner"/>
/// and carried out in order by the reconciler's apply step: delete the volume, or take the
/// pool's rollout turn, wait for a drain, write the children, snapshots and forks, prune, grow,
/// finalize, hand the turn back; then write <see cref="Status"/> if it changed.
/// </summary>
public sealed record CacheVolumePlan
{
    /// <summary>The status the reconcile ends with, before what applying finds; null when it writes none.</summary>
    public CacheVolumeOutcome? Status { get; init; }

    /// <summary>When to look again; the snapshot and fork steps may ask for sooner.</summary>
    public ReconcileResult Next { get; init; }

    /// <summary>The volume goes (a fork that is done, an expired retention); nothing else happens.</summary>
    public Deletion? Delete { get; init; }

    /// <summary>The builder is being drained (for a rollout, stop or deletion); null when it is not.</summary>
    public DrainState? Drain { get; init; }

    /// <summary>This volume takes the pool's rollout turn before its drain starts.</summary>
    public bool TakeRolloutTurn { get; init; }

    /// <summary>This volume's rollout is over: the pool's next volume may take the turn.</summary>
    public bool ReleaseRolloutTurn { get; init; }

    /// <summary>The claim, config, Service and Deployment to write; null when the reconcile stops before them.</summary>
    public BuilderChildren? Children { get; init; }

    /// <summary>The gateway may ask this base volume for forks, and its claim exists to clone.</summary>
    public bool EnsureForks { get; init; }

    /// <summary>For a fork: how long until it could be idle (nothing else announces that).</summary>
    public TimeSpan? ForkRecheck { get; init; }

    /// <summary>Targeted prunes to run on the ready builder.</summary>
    public IReadOnlyList<GcPlanner.Prune> Prunes { get; init; } = [];

    /// <summary>The auto-grow rule to check once usage after the prunes is known; null when usage was not measured.</summary>
    public VolumeGrowth? Growth { get; init; }

    /// <summary>The volume is being deleted and its builder is drained: remove the builder, settle the claim, drop the finalizer.</summary>
    public bool Finalize { get; init; }

    /// <summary>Why a volume is deleted.</summary>
    public enum DeletionCause
    {
        /// <summary>A fork whose base is gone, whose untrusted build ended, or that was idle too long.</summary>
        ForkRetired,

        /// <summary>A <c>Delete</c> pool's volume idle for longer than its <c>spec.retention.deleteAfterIdle</c>.</summary>
        RetentionExpired,
    }

    /// <param name="Detail">Why, in words for the log and the Event.</param>
    public sealed record Deletion(DeletionCause Cause, string Detail);

    /// <summary>A drain in progress.</summary>
    /// <param name="Why">What the builder stops for.</param>
    /// <param name="Active">Builds still running, as the daemon said (0 when it could not be asked).</param>
    /// <param name="Deadline">When the builder stops anyway.</param>
    /// <param name="Wait">True while builds run and the deadline has not passed.</param>
    /// <param name="ProbeError">Why the daemon could not be asked for its builds, or null.</param>
    public sealed record DrainState(string Why, int Active, DateTime Deadline, bool Wait, string? ProbeError);
}
