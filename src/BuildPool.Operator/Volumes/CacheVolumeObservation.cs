using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Diagnosis;
using BuildPool.Operator.Signals;
using k8s.Models;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Everything one CacheVolume reconcile decides from: the caches as they were, and one probe of
/// the daemon. Gathered before anything is written.
/// </summary>
public sealed record CacheVolumeObservation
{
    /// <summary>The volume as the informer holds it: status is written only when it differs from this one's.</summary>
    public required CacheVolume Cached { get; init; }

    /// <summary>This reconcile's copy of the volume (with its finalizer).</summary>
    public required CacheVolume Volume { get; init; }

    /// <summary>The operator's drain and probe intervals, which the plan's waits come from.</summary>
    public required OperatorOptions Options { get; init; }

    public BuilderPool? Pool { get; init; }

    /// <summary>What the builders mount; null while a TLS pool's builder certificate does not exist yet.</summary>
    public BuilderCredentials? Credentials { get; init; }

    /// <summary>The volume's effective settings; null when there is no pool or no credentials to resolve them with.</summary>
    public CacheVolumeSettings? Settings { get; init; }

    /// <summary>Secrets the pool's spec names that do not exist, each naming its field.</summary>
    public IReadOnlyList<string> MissingSecrets { get; init; } = [];

    /// <summary>Every volume of the pool (created by it or by hand), this one included.</summary>
    public IReadOnlyList<CacheVolume> PoolVolumes { get; init; } = [];

    /// <summary>The builder Deployment, or null.</summary>
    public V1Deployment? Deployment { get; init; }

    /// <summary>The state claim, or null.</summary>
    public V1PersistentVolumeClaim? Claim { get; init; }

    /// <summary>While the builder should run and is not ready: its pods and the claim's Events, to say why.</summary>
    public StartObservation Start { get; init; } = StartObservation.None;

    /// <summary>For a fork, its base volume (null when gone).</summary>
    public CacheVolume? ForkBase { get; init; }

    /// <summary>What the pool's gateway asks for this volume (its signal Lease).</summary>
    public VolumeSignals Signals { get; init; } = VolumeSignals.None;

    /// <summary>For a fork, what the gateway asks for its base (which untrusted builds still run).</summary>
    public VolumeSignals ForkBaseSignals { get; init; } = VolumeSignals.None;

    /// <summary>The daemon's answers; null when no builder pod exists to ask.</summary>
    public BuilderProbe? Probe { get; init; }
}
