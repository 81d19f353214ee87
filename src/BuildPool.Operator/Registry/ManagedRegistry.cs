using System.Globalization;
using System.Text.RegularExpressions;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using k8s.Models;

namespace BuildPool.Operator.Registry;

/// <summary>
/// The in-cluster registry of a <c>managed: true</c> RegistryCacheTarget: a PVC, a one-replica
/// Deployment of the distribution registry with its configuration in a ConfigMap, a ClusterIP
/// Service <c>&lt;target&gt;-registry</c> on ports 5000 (read-write, mutual TLS) and 5001
/// (read-only, TLS without a client certificate) and a NetworkPolicy admitting only the builders
/// that use it and the operator, all owned by the target (deleting the target deletes them, the
/// PVC included). Pure: the target in, the desired objects out.
/// </summary>
/// <remarks>
/// The image is a constant here, not an operator option: <see cref="Image"/> has no registry host,
/// so the container runtime's default registry (or its mirror configuration) decides where it comes
/// from. The registry speaks TLS only and requires a client certificate from the target's own
/// registry CA (<see cref="RegistryCertificates"/>): the builders of the pools that use it and the
/// operator hold one, nobody else (tenants' certificates come from their pools' tenant CAs).
/// Isolated forks (untrusted builds) hold none: they import through a second registry process in
/// the same pod, on <see cref="ReadOnlyPort"/>, which serves the same storage (mounted read-only)
/// in distribution's read-only mode to anyone who reaches it, and takes no write.
/// </remarks>
public static partial class ManagedRegistry
{
    /// <summary>The distribution registry, v2 line. No host part on purpose.</summary>
    public const string Image = "registry:2";

    public const int Port = 5000;

    /// <summary>The read-only listener: anonymous pulls for isolated forks, every write refused.</summary>
    public const int ReadOnlyPort = 5001;

    public const string Component = "registry";

    /// <summary>Label naming the RegistryCacheTarget a managed registry's objects belong to.</summary>
    public const string TargetLabel = "buildpool.dev/registry-cache-target";

    /// <summary>PVC size when spec.retention.maxBytes is unset.</summary>
    public const long DefaultStorageBytes = 50L << 30;

    /// <summary>Where the registry keeps its data (the image's default root directory).</summary>
    public const string DataPath = "/var/lib/registry";

    /// <summary>Where the image reads its configuration: the directory the ConfigMap is mounted on.</summary>
    public const string ConfigDirectory = "/etc/docker/registry";

    /// <summary>The registry's configuration file, from the ConfigMap <c>&lt;target&gt;-registry</c>.</summary>
    public const string ConfigPath = ConfigDirectory + "/" + ConfigKey;

    /// <summary>The ConfigMap key holding the registry's configuration.</summary>
    public const string ConfigKey = "config.yml";

    /// <summary>The ConfigMap key holding the read-only listener's configuration.</summary>
    public const string ReadOnlyConfigKey = "read-only.yml";

    /// <summary>The read-only listener's configuration file, from the same ConfigMap.</summary>
    public const string ReadOnlyConfigPath = ConfigDirectory + "/" + ReadOnlyConfigKey;

    /// <summary>The read-only listener's container (and Service port) name.</summary>
    public const string ReadOnlyName = "read-only";

    /// <summary>Where the registry's server certificate Secret is mounted (tls.crt, tls.key, ca.crt: the CA whose client certificates it takes).</summary>
    public const string TlsDirectory = "/etc/docker/registry-tls";

    /// <summary>Pod template annotation: a digest of the server certificate Secret, so a renewed certificate restarts the registry.</summary>
    public const string TlsDigestAnnotation = "buildpool.dev/registry-tls-digest";

    /// <summary>A non-root user; the image declares none, and the registry needs no privileges (port 5000, a volume made writable by fsGroup).</summary>
    public const long RunAsUser = 1000;

    private const string Suffix = "-registry";

    private const string GarbageCollectScript =
        "if [ -d " + DataPath + "/docker/registry/v2/repositories ]; then /bin/registry garbage-collect " + ConfigPath
        + " || echo 'garbage-collect failed; starting the registry anyway'; fi";

    public static string Name(string target) => target + Suffix;

    /// <summary>The registry CA (ca.crt, ca.key): it signs the registry's server certificate and the one client certificate builders and the operator present.</summary>
    public static string CaSecret(string target) => Name(target) + "-ca";

    /// <summary>The registry's server certificate (tls.crt, tls.key, and ca.crt: the registry CA, whose client certificates it requires).</summary>
    public static string TlsSecret(string target) => Name(target) + "-tls";

    /// <summary>The client certificate builders and the operator present to the registry (tls.crt, tls.key, and ca.crt: the registry CA, to verify it).</summary>
    public static string ClientSecret(string target) => Name(target) + "-client";

    /// <summary>Every name the registry's Service answers to in the cluster: its server certificate is for all of them.</summary>
    public static IReadOnlyList<string> DnsNames(RegistryCacheTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = Name(target.Metadata.Name);
        var ns = target.Metadata.NamespaceProperty;
        return [name, $"{name}.{ns}", $"{name}.{ns}.svc", $"{name}.{ns}.svc.cluster.local"];
    }

    /// <summary>
    /// The registry's configuration: filesystem storage with deletes (retention needs them), TLS
    /// with the server certificate, and <c>clientcas</c>, which makes the registry require a client
    /// certificate from the registry CA on every connection (Go's RequireAndVerifyClientCert).
    /// </summary>
    public static string ConfigYaml() => Config(Port, storage: """
          delete:
            enabled: true
        """, tls: $"""
            clientcas:
              - {TlsDirectory}/ca.crt
        """);

    /// <summary>
    /// The read-only listener's configuration: the same storage and server certificate, no
    /// <c>clientcas</c> (any client that reaches it may pull), and distribution's read-only mode,
    /// which leaves every write route (blob uploads, manifest puts, deletes) unregistered, so a
    /// write is answered 405. Its storage is mounted read-only too, and it purges no uploads.
    /// </summary>
    public static string ReadOnlyConfigYaml() => Config(ReadOnlyPort, storage: """
          maintenance:
            readonly:
              enabled: true
            uploadpurging:
              enabled: false
        """, tls: string.Empty);

    private static string Config(int port, string storage, string tls) => $"""
        version: 0.1
        log:
          fields:
            service: registry
        storage:
          cache:
            blobdescriptor: inmemory
          filesystem:
            rootdirectory: {DataPath}
        {storage}
        http:
          addr: :{port.ToString(CultureInfo.InvariantCulture)}
          headers:
            X-Content-Type-Options: [nosniff]
          tls:
            certificate: {TlsDirectory}/tls.crt
            key: {TlsDirectory}/tls.key
        {tls}

        """;

    public static V1ConfigMap ConfigMap(RegistryCacheTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = Owners.ChildMeta(target, Name(target.Metadata.Name), Labels(target.Metadata.Name)),
            Data = new Dictionary<string, string>(StringComparer.Ordinal) { [ConfigKey] = ConfigYaml(), [ReadOnlyConfigKey] = ReadOnlyConfigYaml() },
        };
    }

    /// <summary>The registry's in-cluster address: <c>&lt;target&gt;-registry.&lt;namespace&gt;.svc:5000</c>.</summary>
    public static string Host(RegistryCacheTarget target) => HostOn(target, Port);

    /// <summary>The read-only listener's in-cluster address: <c>&lt;target&gt;-registry.&lt;namespace&gt;.svc:5001</c>, where isolated forks import.</summary>
    public static string ReadOnlyHost(RegistryCacheTarget target) => HostOn(target, ReadOnlyPort);

    private static string HostOn(RegistryCacheTarget target, int port)
    {
        ArgumentNullException.ThrowIfNull(target);
        return $"{Name(target.Metadata.Name)}.{target.Metadata.NamespaceProperty}.svc:{port.ToString(CultureInfo.InvariantCulture)}";
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
                Ports =
                [
                    new V1ServicePort { Name = "https", Port = Port, TargetPort = Port, Protocol = "TCP" },
                    new V1ServicePort { Name = ReadOnlyName, Port = ReadOnlyPort, TargetPort = ReadOnlyPort, Protocol = "TCP" },
                ],
            },
        };
    }

    /// <param name="tlsDigest">Digest of the server certificate Secret (<see cref="Security.SecretDigest"/>): a new one restarts the registry, which reads its certificate only at start.</param>
    public static V1Deployment Deployment(RegistryCacheTarget target, string tlsDigest)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = target.Metadata.Name;
        var mounts = new List<V1VolumeMount>
        {
            new() { Name = "data", MountPath = DataPath },
            new() { Name = "tmp", MountPath = "/tmp" },
            new() { Name = "config", MountPath = ConfigDirectory, ReadOnlyProperty = true },
            new() { Name = "tls", MountPath = TlsDirectory, ReadOnlyProperty = true },
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
                    Metadata = new V1ObjectMeta
                    {
                        Labels = Labels(name),
                        Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [TlsDigestAnnotation] = tlsDigest },
                    },
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
                                VolumeMounts = mounts,
                                SecurityContext = containerSecurity,
                                Resources = Resources(),
                            },
                        ],
                        Containers =
                        [
                            RegistryContainer("registry", "https", Port, command: null, mounts, containerSecurity),
                            // The same storage, mounted read-only, behind a listener in read-only mode:
                            // where isolated forks import, with no certificate to take from them.
                            RegistryContainer(
                                ReadOnlyName,
                                ReadOnlyName,
                                ReadOnlyPort,
                                ["/bin/registry", "serve", ReadOnlyConfigPath],
                                [.. mounts.Select(m => m.Name == "data" ? new V1VolumeMount { Name = m.Name, MountPath = m.MountPath, ReadOnlyProperty = true } : m)],
                                containerSecurity),
                        ],
                        Volumes =
                        [
                            new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = Name(name) } },
                            new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
                            new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = Name(name) } },
                            new V1Volume { Name = "tls", Secret = new V1SecretVolumeSource { SecretName = TlsSecret(name) } },
                        ],
                    },
                },
            },
        };
    }

    /// <param name="command">Null for the image's own (it serves <see cref="ConfigPath"/>).</param>
    private static V1Container RegistryContainer(string name, string portName, int port, IList<string>? command, IList<V1VolumeMount> mounts, V1SecurityContext security) => new()
    {
        Name = name,
        Image = Image,
        Command = command,
        Ports = [new V1ContainerPort { Name = portName, ContainerPort = port, Protocol = "TCP" }],
        VolumeMounts = mounts,
        SecurityContext = security,
        Resources = Resources(),
        // TCP, not HTTP: the kubelet holds no client certificate, and the read-write listener
        // completes no TLS handshake without one.
        ReadinessProbe = new V1Probe
        {
            TcpSocket = new V1TCPSocketAction { Port = port },
            PeriodSeconds = 10,
            FailureThreshold = 3,
        },
        LivenessProbe = new V1Probe
        {
            TcpSocket = new V1TCPSocketAction { Port = port },
            InitialDelaySeconds = 10,
            PeriodSeconds = 20,
            FailureThreshold = 6,
        },
    };

    /// <summary>
    /// Who may reach the registry. Port 5000 (read-write): the builders of the pools that list the
    /// target in <c>spec.cacheTargets</c>, except isolated forks (an untrusted build's steps could
    /// write any tag the trusted builds import; the registry's client certificates say who may
    /// connect, not what they may write), and the operator, whose GC and checks use it. Port 5001
    /// (read-only): the same pools' builders, isolated forks included, which import there. Nothing
    /// else, in any namespace. Where NetworkPolicies are not enforced, the read-write listener's
    /// mutual TLS still is; the read-only one then serves any pod that can reach the Service.
    /// </summary>
    /// <param name="pools">Names of the pools in the target's namespace that list it.</param>
    public static V1NetworkPolicy NetworkPolicy(RegistryCacheTarget target, IReadOnlyCollection<string> pools, string operatorNamespace)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(pools);
        var name = target.Metadata.Name;
        var readWrite = new List<V1NetworkPolicyPeer>();
        var rules = new List<V1NetworkPolicyIngressRule>();
        if (pools.Count > 0)
        {
            readWrite.Add(new V1NetworkPolicyPeer { PodSelector = Builders(pools, withIsolatedForks: false) });
            // Only with pools: a rule without peers would admit every source.
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = [new V1NetworkPolicyPeer { PodSelector = Builders(pools, withIsolatedForks: true) }],
                Ports = [new V1NetworkPolicyPort { Port = ReadOnlyPort, Protocol = "TCP" }],
            });
        }

        readWrite.Add(new V1NetworkPolicyPeer
        {
            NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = operatorNamespace } },
            PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [WellKnown.NameLabel] = "buildpool", [WellKnown.ComponentLabel] = "operator" } },
        });
        rules.Insert(0, new V1NetworkPolicyIngressRule { FromProperty = readWrite, Ports = [new V1NetworkPolicyPort { Port = Port, Protocol = "TCP" }] });
        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Owners.ChildMeta(target, Name(name), Labels(name)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = Selector(name) },
                PolicyTypes = ["Ingress"],
                Ingress = rules,
            },
        };
    }

    private static V1LabelSelector Builders(IReadOnlyCollection<string> pools, bool withIsolatedForks)
    {
        var expressions = new List<V1LabelSelectorRequirement>
        {
            new() { Key = WellKnown.PoolLabel, OperatorProperty = "In", Values = [.. pools.Order(StringComparer.Ordinal)] },
        };
        if (!withIsolatedForks)
        {
            expressions.Add(new V1LabelSelectorRequirement { Key = LifecycleAnnotations.IsolatedForLabel, OperatorProperty = "DoesNotExist" });
        }

        return new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [WellKnown.NameLabel] = "buildpool",
                [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
                [WellKnown.ComponentLabel] = WellKnown.BuilderComponent,
            },
            MatchExpressions = expressions,
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
