using System.Globalization;
using System.Text.RegularExpressions;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using k8s.Models;

namespace BuildPool.Operator.Registry;

/// <summary>
/// The in-cluster registry of a <c>managed: true</c> RegistryCacheTarget: a PVC, a one-replica
/// Deployment of the distribution registry, a ClusterIP Service <c>&lt;target&gt;-registry</c>
/// on port 5000 and a NetworkPolicy admitting only the builders that use it and the operator,
/// all owned by the target (deleting the target deletes them, the PVC included).
/// Pure: the target in, the desired objects out.
/// </summary>
/// <remarks>
/// The image is a constant here, not an operator option: <see cref="Image"/> has no registry host,
/// so the container runtime's default registry (or its mirror configuration) decides where it comes
/// from. The registry speaks plain HTTP inside the cluster; builders reach it through
/// <c>registry.insecure=true</c> in the buildx flags (see <see cref="BuildxFlagsRenderer"/>).
/// </remarks>
public static partial class ManagedRegistry
{
    /// <summary>The distribution registry, v2 line. No host part on purpose.</summary>
    public const string Image = "registry:2";

    public const int Port = 5000;

    public const string Component = "registry";

    /// <summary>Label naming the RegistryCacheTarget a managed registry's objects belong to.</summary>
    public const string TargetLabel = "buildpool.dev/registry-cache-target";

    /// <summary>PVC size when spec.retention.maxBytes is unset.</summary>
    public const long DefaultStorageBytes = 50L << 30;

    /// <summary>Where the registry keeps its data (the image's default root directory).</summary>
    public const string DataPath = "/var/lib/registry";

    /// <summary>The image's own configuration file; environment variables override its fields.</summary>
    public const string ConfigPath = "/etc/docker/registry/config.yml";

    /// <summary>A non-root user; the image declares none, and the registry needs no privileges (port 5000, a volume made writable by fsGroup).</summary>
    public const long RunAsUser = 1000;

    private const string Suffix = "-registry";

    private const string GarbageCollectScript =
        "if [ -d " + DataPath + "/docker/registry/v2/repositories ]; then /bin/registry garbage-collect " + ConfigPath
        + " || echo 'garbage-collect failed; starting the registry anyway'; fi";

    public static string Name(string target) => target + Suffix;

    /// <summary>The registry's in-cluster address: <c>&lt;target&gt;-registry.&lt;namespace&gt;.svc:5000</c>.</summary>
    public static string Host(RegistryCacheTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return $"{Name(target.Metadata.Name)}.{target.Metadata.NamespaceProperty}.svc:{Port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// The ref builds and GC use: <paramref name="reference"/> with its registry host replaced by
    /// <paramref name="host"/>. The first path component counts as a host when it has a dot or a
    /// colon or is <c>localhost</c> (docker's rule), so <c>cache/app:{key}</c> and
    /// <c>anything.example:5000/cache/app:{key}</c> both become <c>&lt;host&gt;/cache/app:{key}</c>.
    /// </summary>
    public static string EffectiveRef(string reference, string host)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var slash = reference.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var first = reference[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            {
                reference = reference[(slash + 1)..];
            }
        }

        return $"{host}/{reference}";
    }

    /// <summary>An error about metadata.name when the Service name it needs would be invalid, else null.</summary>
    public static string? NameError(string target) =>
        ServiceName().IsMatch(Name(target)) && Name(target).Length <= 63
            ? null
            : $"metadata.name: \"{target}\" is too long or does not start with a letter for a managed registry (its Service \"{Name(target)}\" must be a DNS label of at most 63 characters)";

    /// <summary>
    /// PVC size: <c>spec.retention.maxBytes</c> plus 20% headroom (retention runs on a schedule
    /// and deleted blobs are only reclaimed by the registry's own garbage collection), rounded up
    /// to a whole Gi; 50Gi when maxBytes is unset.
    /// </summary>
    public static long StorageBytes(RetentionLimits? limits)
    {
        if (limits?.MaxBytes is not { } max)
        {
            return DefaultStorageBytes;
        }

        const long gi = 1L << 30;
        var withHeadroom = max + (max / 5) + (max % 5 == 0 ? 0 : 1);
        return Math.Max(1, (withHeadroom + gi - 1) / gi) * gi;
    }

    public static Dictionary<string, string> Labels(string target) => new(StringComparer.Ordinal)
    {
        [WellKnown.NameLabel] = "buildpool",
        [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
        [WellKnown.ComponentLabel] = Component,
        [TargetLabel] = target,
    };

    /// <summary>The target a child of a managed registry belongs to, from its label.</summary>
    public static string? TargetOf(V1ObjectMeta? metadata) =>
        metadata?.Labels?.TryGetValue(TargetLabel, out var target) == true ? target : null;

    public static V1PersistentVolumeClaim Claim(RegistryCacheTarget target, RetentionLimits? limits)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = target.Metadata.Name;
        return new V1PersistentVolumeClaim
        {
            ApiVersion = "v1",
            Kind = "PersistentVolumeClaim",
            Metadata = Owners.ChildMeta(target, Name(name), Labels(name)),
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                Resources = new V1VolumeResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(StorageBytes(limits).ToString(CultureInfo.InvariantCulture)) },
                },
            },
        };
    }

    public static V1Service Service(RegistryCacheTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = target.Metadata.Name;
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Owners.ChildMeta(target, Name(name), Labels(name)),
            Spec = new V1ServiceSpec
            {
                Type = "ClusterIP",
                Selector = Selector(name),
                Ports = [new V1ServicePort { Name = "http", Port = Port, TargetPort = Port, Protocol = "TCP" }],
            },
        };
    }

    public static V1Deployment Deployment(RegistryCacheTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = target.Metadata.Name;
        var env = new List<V1EnvVar>
        {
            new() { Name = "REGISTRY_STORAGE_DELETE_ENABLED", Value = "true" },
            new() { Name = "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", Value = DataPath },
            new() { Name = "REGISTRY_HTTP_ADDR", Value = $":{Port.ToString(CultureInfo.InvariantCulture)}" },
        };
        var mounts = new List<V1VolumeMount>
        {
            new() { Name = "data", MountPath = DataPath },
            new() { Name = "tmp", MountPath = "/tmp" },
        };
        var containerSecurity = new V1SecurityContext
        {
            AllowPrivilegeEscalation = false,
            ReadOnlyRootFilesystem = true,
            RunAsNonRoot = true,
            Capabilities = new V1Capabilities { Drop = ["ALL"] },
        };

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Owners.ChildMeta(target, Name(name), Labels(name)),
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                // One ReadWriteOnce volume, and offline GC at start: never two registries at once.
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Selector = new V1LabelSelector { MatchLabels = Selector(name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = Labels(name) },
                    Spec = new V1PodSpec
                    {
                        AutomountServiceAccountToken = false,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            RunAsUser = RunAsUser,
                            RunAsGroup = RunAsUser,
                            FsGroup = RunAsUser,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        // Manifests retention deleted free their blobs only through the registry's
                        // garbage collection, which must run while nothing writes: at every start.
                        InitContainers =
                        [
                            new V1Container
                            {
                                Name = "garbage-collect",
                                Image = Image,
                                // An empty store has no repositories directory (garbage-collect fails on it),
                                // and a failed collection must not keep the registry from starting.
                                Command = ["/bin/sh", "-c", GarbageCollectScript],
                                Env = env,
                                VolumeMounts = mounts,
                                SecurityContext = containerSecurity,
                                Resources = Resources(),
                            },
                        ],
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "registry",
                                Image = Image,
                                Ports = [new V1ContainerPort { Name = "http", ContainerPort = Port, Protocol = "TCP" }],
                                Env = env,
                                VolumeMounts = mounts,
                                SecurityContext = containerSecurity,
                                Resources = Resources(),
                                ReadinessProbe = new V1Probe
                                {
                                    HttpGet = new V1HTTPGetAction { Path = "/v2/", Port = Port },
                                    PeriodSeconds = 5,
                                    FailureThreshold = 3,
                                },
                                LivenessProbe = new V1Probe
                                {
                                    HttpGet = new V1HTTPGetAction { Path = "/v2/", Port = Port },
                                    InitialDelaySeconds = 10,
                                    PeriodSeconds = 20,
                                    FailureThreshold = 6,
                                },
                            },
                        ],
                        Volumes =
                        [
                            new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = Name(name) } },
                            new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>
    /// Who may reach the registry: the builders of the pools that list the target in
    /// <c>spec.cacheTargets</c>, except isolated forks (an untrusted build's steps could write
    /// any tag the trusted builds import; the registry has no per-client authorization to stop
    /// them), and the operator, whose GC and checks use it. Nothing else, in any namespace.
    /// </summary>
    /// <param name="pools">Names of the pools in the target's namespace that list it.</param>
    public static V1NetworkPolicy NetworkPolicy(RegistryCacheTarget target, IReadOnlyCollection<string> pools, string operatorNamespace)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(pools);
        var name = target.Metadata.Name;
        var peers = new List<V1NetworkPolicyPeer>();
        if (pools.Count > 0)
        {
            peers.Add(new V1NetworkPolicyPeer
            {
                PodSelector = new V1LabelSelector
                {
                    MatchLabels = new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        [WellKnown.NameLabel] = "buildpool",
                        [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
                        [WellKnown.ComponentLabel] = WellKnown.BuilderComponent,
                    },
                    MatchExpressions =
                    [
                        new V1LabelSelectorRequirement { Key = WellKnown.PoolLabel, OperatorProperty = "In", Values = [.. pools.Order(StringComparer.Ordinal)] },
                        new V1LabelSelectorRequirement { Key = LifecycleAnnotations.IsolatedForLabel, OperatorProperty = "DoesNotExist" },
                    ],
                },
            });
        }

        peers.Add(new V1NetworkPolicyPeer
        {
            NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = operatorNamespace } },
            PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [WellKnown.NameLabel] = "buildpool", [WellKnown.ComponentLabel] = "operator" } },
        });
        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Owners.ChildMeta(target, Name(name), Labels(name)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = Selector(name) },
                PolicyTypes = ["Ingress"],
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = peers, Ports = [new V1NetworkPolicyPort { Port = Port, Protocol = "TCP" }] }],
            },
        };
    }

    /// <summary>The pools in the target's namespace that list it in spec.cacheTargets.</summary>
    public static IReadOnlyCollection<string> PoolsUsing(RegistryCacheTarget target, IEnumerable<BuilderPool> pools)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(pools);
        return pools
            .Where(p => p.Metadata.NamespaceProperty == target.Metadata.NamespaceProperty && p.Spec.CacheTargets?.Any(t => t.Name == target.Metadata.Name) == true)
            .Select(p => p.Metadata.Name)
            .ToHashSet(StringComparer.Ordinal);
    }

    private static Dictionary<string, string> Selector(string target) => new(StringComparer.Ordinal)
    {
        [WellKnown.NameLabel] = "buildpool",
        [WellKnown.ComponentLabel] = Component,
        [TargetLabel] = target,
    };

    private static V1ResourceRequirements Resources() => new()
    {
        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("50m"), ["memory"] = new("64Mi") },
        Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("512Mi") },
    };

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceName();
}
