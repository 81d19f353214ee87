using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Protocol;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Status;
using BuildPool.Operator.Volumes;
using Google.Protobuf.WellKnownTypes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Volumes;

/// <summary>
/// What a CacheVolume reconcile sees, written down as a table row: a pool, the volume, the rest
/// of the pool, the builder Deployment, the claim and the daemon. <see cref="Observe"/> turns it
/// into the observation the reconciler would have gathered.
/// </summary>
internal sealed record VolumeWorld
{
    public const long Gi = 1L << 30;
    public static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public static readonly OperatorOptions Options = new()
    {
        DrainTimeout = TimeSpan.FromHours(1),
        DrainPollInterval = TimeSpan.FromSeconds(10),
        ProbeInterval = TimeSpan.FromSeconds(30),
    };

    public BuilderPool? Pool { get; init; } = NewPool();

    public CacheVolume Volume { get; init; } = NewVolume("ci-0");

    /// <summary>The pool's other volumes.</summary>
    public IReadOnlyList<CacheVolume> Others { get; init; } = [];

    /// <summary>The builder Deployment; null when there is none.</summary>
    public Builder? Deployment { get; init; }

    /// <summary>The claim's requested size; null when there is no claim.</summary>
    public string? Claim { get; init; } = "10Gi";

    /// <summary>The claim carries BuildPool's labels for this volume; false for a claim that only has its name.</summary>
    public bool ClaimIsOurs { get; init; } = true;

    public BuilderProbe? Probe { get; init; }

    /// <summary>For a fork, its base volume.</summary>
    public CacheVolume? ForkBase { get; init; }

    /// <summary>What the gateway's signals say of the volume.</summary>
    public VolumeSignals Signals { get; init; } = VolumeSignals.None;

    public IReadOnlyList<string> MissingSecrets { get; init; } = [];

    /// <summary>A TLS pool's builder certificate exists.</summary>
    public bool BuilderCertificate { get; init; } = true;

    /// <param name="SpecReplicas">Replicas asked for.</param>
    /// <param name="Replicas">Pods that exist.</param>
    /// <param name="Ready">Pods that are ready.</param>
    /// <param name="CurrentConfig">The pod template is the one the plan renders (false: an older configuration).</param>
    /// <param name="Settled">The Deployment controller has seen its latest generation.</param>
    /// <param name="Tls">The pod mounts the builder certificate (it serves TLS).</param>
    public sealed record Builder(int SpecReplicas, int Replicas, int Ready, bool CurrentConfig = true, bool Settled = true, bool Tls = false);

    public static BuilderPool NewPool(TlsMode tls = TlsMode.Disabled, ReclaimPolicy reclaim = ReclaimPolicy.Retain, int warm = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "builds", Uid = "pool-uid", ResourceVersion = "40", Generation = 1 },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 2 },
            Scaling = new ScalingSpec { WarmBuilders = warm, IdleTimeout = "30m" },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" }, ReclaimPolicy = reclaim },
            Endpoint = new EndpointSpec { Tls = new EndpointTlsSpec { Mode = tls } },
        },
    };

    public static CacheVolume NewVolume(string name, CacheVolumePhase? phase = null, int active = 0) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "builds",
            Uid = $"{name}-uid",
            Generation = 2,
            ResourceVersion = "7",
            CreationTimestamp = Now.AddDays(-10),
            Finalizers = [WellKnown.VolumeFinalizer],
            OwnerReferences = [new V1OwnerReference { ApiVersion = GroupVersion.ApiVersion, Kind = BuilderPool.KubeKind, Name = "ci", Uid = "pool-uid", Controller = true }],
        },
        Spec = new CacheVolumeSpec { Pool = "ci" },
        Status = new CacheVolumeStatus { Phase = phase, ActiveBuilds = active },
    };

    public static V1Condition Condition(string type, bool status, string reason, DateTime since) =>
        new() { Type = type, Status = status ? "True" : "False", Reason = reason, Message = reason, LastTransitionTime = since, ObservedGeneration = 1 };

    public static BuilderProbe Answering(int active = 0, long usedBytes = 2 * Gi, params UsageRecord[] records) =>
        new(active, 1, "v0.17.3", records.Length > 0 ? records : [new UsageRecord { ID = "layers", RecordType = "regular", Size = usedBytes, LastUsedAt = Timestamp.FromDateTime(Now) }]);

    public static UsageRecord CacheMount(string id, string mount, long size, TimeSpan age) => new()
    {
        ID = id,
        RecordType = "exec.cachemount",
        Description = $"cached mount /root/.cache from exec /bin/sh -c build with id \"{mount}\"",
        Size = size,
        LastUsedAt = Timestamp.FromDateTime(Now - age),
    };

    public CacheVolumeObservation Observe()
    {
        var credentials = Pool is null ? null : BuilderCredentialsPlanner.Plan(Pool, [], name =>
            BuilderCertificate && name == ResourceNames.BuilderTlsSecret(Pool.Metadata.Name)
                ? new V1Secret { Metadata = new V1ObjectMeta { Name = name, ResourceVersion = "3" }, Data = new Dictionary<string, byte[]> { ["tls.crt"] = [1] } }
                : null);
        var settings = Pool is null || credentials is null ? null : CacheVolumeSettings.Resolve(Volume, Pool, credentials);
        return new CacheVolumeObservation
        {
            Cached = Volume,
            Volume = Volume,
            Options = Options,
            Pool = Pool,
            Credentials = credentials,
            Settings = settings,
            MissingSecrets = MissingSecrets,
            PoolVolumes = Pool is null ? [] : [Volume, .. Others],
            Deployment = Deployment is { } d ? DeploymentOf(d, settings, credentials) : null,
            Claim = Claim is { } size ? new V1PersistentVolumeClaim
            {
                Metadata = new V1ObjectMeta
                {
                    Name = ResourceNames.StateClaim(Volume.Metadata.Name),
                    NamespaceProperty = "builds",
                    Labels = ClaimIsOurs ? Owners.VolumeLabels(Volume.Spec.Pool, Volume.Metadata.Name) : null,
                },
                Spec = new V1PersistentVolumeClaimSpec { Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) } } },
            }
            : null,
            ForkBase = ForkBase,
            Signals = Signals,
            Probe = Probe,
        };
    }

    private V1Deployment DeploymentOf(Builder builder, CacheVolumeSettings? settings, BuilderCredentials? credentials)
    {
        var hash = Pool is not null && settings is { Errors.Count: 0 }
            && builder.CurrentConfig ? BuilderChildrenPlanner.Plan(Volume, Pool, settings.BuildkitdToml, true, credentials).PodTemplateHash : "an-older-config";
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = ResourceNames.Builder(Volume.Metadata.Name), NamespaceProperty = "builds", Generation = 4 },
            Spec = new V1DeploymentSpec
            {
                Replicas = builder.SpecReplicas,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { [BuilderChildrenPlanner.PodTemplateHashAnnotation] = hash } },
                    Spec = new V1PodSpec
                    {
                        Containers = [],
                        Volumes = builder.Tls ? [new V1Volume { Name = BuilderCredentialsPlanner.TlsVolume }] : [],
                    },
                },
            },
            Status = new V1DeploymentStatus { Replicas = builder.Replicas, ReadyReplicas = builder.Ready, ObservedGeneration = builder.Settled ? 4 : 3 },
        };
    }

    /// <summary>The outcome a plan left, as words for a golden file.</summary>
    public static object Describe(CacheVolumeOutcome? outcome) => outcome is null ? "none" : new
    {
        phase = outcome.Phase.ToString(),
        result = $"{outcome.Result.State} {outcome.Result.Reason}: {outcome.Result.Message}",
        outcome.ActiveBuilds,
        outcome.UsedBytes,
        outcome.Draining,
        conditions = outcome.Conditions.Select(Describe).ToList(),
    };

    public static string Describe(ConditionChange change) =>
        change.Status is { } status ? $"{change.Type}={status} {change.Reason}: {change.Message}" : $"{change.Type} removed";
}
