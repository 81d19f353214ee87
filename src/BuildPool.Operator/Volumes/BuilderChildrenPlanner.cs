using System.Security.Cryptography;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Pure: a cache volume and its pool in, the PVC, buildkitd.toml ConfigMap, builder Deployment
/// (0 or 1 replicas, Recreate: never two daemons on one state directory) and Service out.
/// </summary>
public static class BuilderChildrenPlanner
{
    public const int BuildKitPort = 1234;
    public const string PodTemplateHashAnnotation = "buildpool.dev/pod-template-hash";
    public const string ReclaimPolicyLabel = "buildpool.dev/reclaim-policy";
    private const string ConfigDirectory = "/etc/buildkit";
    private const string RootlessState = "/home/user/.local/share/buildkit";
    private const string RootfulState = "/var/lib/buildkit";

    public static BuilderChildren Plan(CacheVolume volume, BuilderPool pool, string buildkitdToml, bool running, BuilderCredentials? credentials = null, IList<V1LocalObjectReference>? imagePullSecrets = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(pool);
        var name = volume.Metadata.Name;
        var poolName = pool.Metadata.Name;
        var labels = Owners.VolumeLabels(poolName, name);
        var builder = pool.Spec.Builder;
        var size = volume.Spec.Size ?? pool.Spec.Cache.Volume.Size;
        var storageClass = volume.Spec.StorageClassName ?? pool.Spec.Cache.Volume.StorageClassName;

        // The claim has no owner reference: the volume's finalizer decides its fate from the
        // reclaim policy, so a deleted pool never takes a Retain cache with it by cascade.
        var claimLabels = new Dictionary<string, string>(labels, StringComparer.Ordinal)
        {
            // Forks never write back: their claims always go with them.
            [ReclaimPolicyLabel] = Forks.ForkPlanner.IsFork(volume) ? nameof(ReclaimPolicy.Delete) : pool.Spec.Cache.ReclaimPolicy.ToString(),
        };
        var claim = new V1PersistentVolumeClaim
        {
            ApiVersion = "v1",
            Kind = "PersistentVolumeClaim",
            Metadata = Owners.ChildMeta(volume, ResourceNames.StateClaim(name), claimLabels, owned: false),
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                StorageClassName = storageClass,
                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(size) } },
                DataSource = DataSourceOf(volume.Spec),
            },
        };

        var config = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = Owners.ChildMeta(volume, ResourceNames.Config(name), labels),
            Data = new Dictionary<string, string> { ["buildkitd.toml"] = buildkitdToml },
        };

        var podLabels = new Dictionary<string, string>(labels, StringComparer.Ordinal);
        if (Forks.ForkPlanner.IsolatedFor(volume) is { } build)
        {
            // NetworkPolicies tell an untrusted build's builder from the others by this label
            // (a managed registry admits only trusted builders: its cache is what they import).
            podLabels[LifecycleAnnotations.IsolatedForLabel] = build;
        }

        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = podLabels },
            Spec = BuilderPod(builder, name, isolated: Forks.ForkPlanner.IsolatedFor(volume) is not null),
        };
        template.Spec.ImagePullSecrets = imagePullSecrets;
        if (credentials is not null)
        {
            AddCredentials(template, credentials);
        }

        if (credentials?.Digest is { } digest)
        {
            // Secrets are read at start too: their digest in the template rolls the pod through drain.
            template.Metadata.Annotations = new Dictionary<string, string> { [BuilderCredentials.DigestAnnotation] = digest };
        }

        if (credentials?.TlsDigest is { } tlsDigest)
        {
            template.Metadata.Annotations ??= new Dictionary<string, string>();
            template.Metadata.Annotations[BuilderCredentials.TlsDigestAnnotation] = tlsDigest;
        }

        var templateHash = Hash(KubernetesJson.Serialize(template) + buildkitdToml);
        // The config file is read only at start: its hash in the template rolls the pod when it changes.
        template.Metadata.Annotations ??= new Dictionary<string, string>();
        template.Metadata.Annotations[PodTemplateHashAnnotation] = templateHash;

        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Owners.ChildMeta(volume, ResourceNames.Builder(name), labels),
            Spec = new V1DeploymentSpec
            {
                Replicas = running ? 1 : 0,
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [WellKnown.VolumeLabel] = name, [WellKnown.PoolLabel] = poolName } },
                Template = template,
            },
        };

        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Owners.ChildMeta(volume, ResourceNames.BuilderService(name), labels),
            Spec = new V1ServiceSpec
            {
                Type = "ClusterIP",
                Selector = new Dictionary<string, string> { [WellKnown.VolumeLabel] = name, [WellKnown.PoolLabel] = poolName },
                Ports = [new V1ServicePort { Name = "buildkit", Port = BuildKitPort, TargetPort = "buildkit", Protocol = "TCP" }],
            },
        };

        return new BuilderChildren(claim, config, deployment, service) { PodTemplateHash = templateHash };
    }

    /// <summary>
    /// Where a new claim's data comes from: a CSI clone of another volume's claim, a
    /// VolumeSnapshot (restoring a volume warm), or nothing.
    /// </summary>
    public static V1TypedLocalObjectReference? DataSourceOf(CacheVolumeSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.CloneFromSnapshot is { Length: > 0 } snapshot)
        {
            return new V1TypedLocalObjectReference { ApiGroup = Snapshots.VolumeSnapshot.KubeGroup, Kind = Snapshots.VolumeSnapshot.KubeKind, Name = snapshot };
        }

        return spec.CloneFrom is { Length: > 0 } source
            ? new V1TypedLocalObjectReference { Kind = "PersistentVolumeClaim", Name = ResourceNames.StateClaim(source) }
            : null;
    }

    private static void AddCredentials(V1PodTemplateSpec template, BuilderCredentials credentials)
    {
        var container = template.Spec.Containers[0];
        foreach (var volume in credentials.Volumes)
        {
            template.Spec.Volumes.Add(volume);
        }

        foreach (var mount in credentials.Mounts)
        {
            container.VolumeMounts.Add(mount);
        }

        if (credentials.EnvFrom.Count > 0)
        {
            container.EnvFrom = [.. credentials.EnvFrom];
        }
    }

    public static string StateDirectory(SecurityProfile profile) => profile == SecurityProfile.Rootless ? RootlessState : RootfulState;

    private static V1PodSpec BuilderPod(BuilderSpec builder, string volume, bool isolated)
    {
        var profile = builder.SecurityProfile;
        var state = StateDirectory(profile);
        var socket = profile == SecurityProfile.Rootless ? "unix:///run/user/1000/buildkit/buildkitd.sock" : "unix:///run/buildkit/buildkitd.sock";
        var args = new List<string>
        {
            "--addr", socket,
            "--addr", $"tcp://0.0.0.0:{BuildKitPort}",
            "--config", $"{ConfigDirectory}/buildkitd.toml",
            "--root", state,
        };
        if (profile != SecurityProfile.Privileged)
        {
            // Without privileges the daemon cannot create a PID namespace per build step.
            args.Add("--oci-worker-no-process-sandbox");
        }

        var probe = new V1Probe
        {
            Exec = new V1ExecAction { Command = ["buildctl", "--addr", socket, "debug", "workers"] },
            PeriodSeconds = 10,
            TimeoutSeconds = 5,
            FailureThreshold = 3,
        };

        var container = new V1Container
        {
            Name = "buildkitd",
            Image = builder.Image,
            Args = args,
            Ports = [new V1ContainerPort { Name = "buildkit", ContainerPort = BuildKitPort, Protocol = "TCP" }],
            ReadinessProbe = probe,
            LivenessProbe = new V1Probe
            {
                Exec = probe.Exec,
                InitialDelaySeconds = 10,
                PeriodSeconds = 30,
                TimeoutSeconds = 10,
                FailureThreshold = 5,
            },
            Resources = builder.Resources,
            VolumeMounts = new List<V1VolumeMount>
            {
                new() { Name = "state", MountPath = state },
                new() { Name = "config", MountPath = ConfigDirectory, ReadOnlyProperty = true },
            },
            SecurityContext = profile switch
            {
                SecurityProfile.Privileged => new V1SecurityContext { Privileged = true },
                SecurityProfile.UserNamespace => new V1SecurityContext
                {
                    SeccompProfile = new V1SeccompProfile { Type = "Unconfined" },
                    AppArmorProfile = new V1AppArmorProfile { Type = "Unconfined" },
                },
                // Rootless needs newuidmap, so allowPrivilegeEscalation stays unset.
                _ => new V1SecurityContext
                {
                    RunAsUser = 1000,
                    RunAsGroup = 1000,
                    SeccompProfile = new V1SeccompProfile { Type = "Unconfined" },
                    AppArmorProfile = new V1AppArmorProfile { Type = "Unconfined" },
                },
            },
        };

        var volumes = new List<V1Volume>
        {
            new() { Name = "state", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = ResourceNames.StateClaim(volume) } },
            new() { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = ResourceNames.Config(volume) } },
        };
        for (var i = 0; i < (builder.Registries?.Count ?? 0); i++)
        {
            if (RegistryFiles.For(builder.Registries![i], i, keyPair: !isolated) is var (secretVolume, mount))
            {
                volumes.Add(secretVolume);
                container.VolumeMounts.Add(mount);
            }
        }

        return new V1PodSpec
        {
            Containers = [container],
            HostUsers = profile == SecurityProfile.UserNamespace ? false : null,
            SecurityContext = profile == SecurityProfile.Rootless ? new V1PodSecurityContext { FsGroup = 1000 } : null,
            NodeSelector = builder.NodeSelector,
            Tolerations = builder.Tolerations,
            Affinity = builder.Affinity,
            // The operator drains before stopping a builder; this only bounds a stuck shutdown.
            TerminationGracePeriodSeconds = 60,
            Volumes = volumes,
        };
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
}
