using BuildPool.Api.V1Alpha1;
using k8s.Models;

namespace BuildPool.Api.Tests;

/// <summary>Fully populated objects of each kind, with non-default enum values everywhere.</summary>
internal static class Samples
{
    private static readonly DateTime s_time = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    private static V1Condition Ready() => new()
    {
        Type = "Ready",
        Status = "True",
        Reason = "Reconciled",
        Message = "all builders ready",
        LastTransitionTime = s_time,
        ObservedGeneration = 3,
    };

    internal static BuilderPool BuilderPool() => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "builds", Generation = 3 },
        Spec = new BuilderPoolSpec
        {
            Builder = new BuilderSpec
            {
                Image = "moby/buildkit:v0.17.3",
                SecurityProfile = SecurityProfile.Privileged,
                Resources = new V1ResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2"), ["memory"] = new("4Gi") },
                },
                NodeSelector = new Dictionary<string, string> { ["kubernetes.io/arch"] = "arm64" },
                Tolerations = [new V1Toleration { Key = "builds", OperatorProperty = "Exists", Effect = "NoSchedule" }],
                Affinity = new V1Affinity
                {
                    PodAntiAffinity = new V1PodAntiAffinity
                    {
                        PreferredDuringSchedulingIgnoredDuringExecution =
                        [
                            new V1WeightedPodAffinityTerm
                            {
                                Weight = 50,
                                PodAffinityTerm = new V1PodAffinityTerm
                                {
                                    TopologyKey = "kubernetes.io/hostname",
                                    LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "buildkitd" } },
                                },
                            },
                        ],
                    },
                },
                Platforms = ["linux/arm64"],
                MaxParallelism = 8,
                MaxConcurrentBuilds = 2,
                Registries =
                [
                    new RegistrySettings
                    {
                        Host = "mirror.test:5000",
                        Mirrors = ["mirror.test/hub"],
                        Http = true,
                        Insecure = true,
                        CaSecretRef = new SecretKeyReference { Name = "registry-ca", Key = "ca.crt" },
                        ClientKeyPairSecretRef = new SecretReference { Name = "registry-client" },
                    },
                ],
            },
            Cache = new CacheSpec
            {
                Volume = new CacheVolumeTemplate { Size = "200Gi", StorageClassName = "fast-ssd" },
                Sharing = CacheSharing.Locked,
                Gc = new GcPolicy { ReservedSpace = "20Gi", MaxUsedSpace = "90%", MinFreeSpace = "5%", KeepDuration = "48h" },
                CacheMounts = [new CacheMountRule { Id = "/root/.npm", KeepDuration = "168h", MaxSize = "10Gi" }],
                AutoGrow = new AutoGrowPolicy { Threshold = "90%", Step = "50Gi", MaxSize = "1Ti" },
                ReclaimPolicy = ReclaimPolicy.Delete,
            },
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, Volumes = 2, MaxVolumes = 10 },
            Scaling = new ScalingSpec { WarmBuilders = 0, IdleTimeout = "1h30m", StartTimeout = "90s" },
            Routing = new RoutingSpec
            {
                KeySources = [RoutingKeySource.ClientCertificate, RoutingKeySource.SessionDirectory],
                Domain = "builds.test",
                BoundedLoadFactor = 1.5,
                QueueTimeout = "10m",
            },
            Endpoint = new EndpointSpec
            {
                Port = 8443,
                ServiceType = EndpointServiceType.LoadBalancer,
                Tls = new EndpointTlsSpec { Mode = TlsMode.FromSecret, SecretName = "endpoint-tls", RequireClientCertificate = false },
            },
            CacheTargets = [new CacheTargetReference { Name = "shared-cache", Inject = true }],
        },
        Status = new BuilderPoolStatus
        {
            ObservedGeneration = 3,
            Conditions = [Ready()],
            Endpoint = "tcp://ci.builds.svc:8443",
            Volumes = 2,
            ReadyVolumes = 2,
            Builders = 2,
            ReadyBuilders = 1,
            ActiveBuilds = 3,
            QueuedBuilds = 1,
            BuildxCommand = "docker buildx create --driver remote tcp://ci.builds.svc:8443",
        },
    };

    internal static CacheVolume CacheVolume() => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci-release", NamespaceProperty = "builds" },
        Spec = new CacheVolumeSpec
        {
            Pool = "ci",
            Sharing = CacheSharing.Private,
            Size = "100Gi",
            StorageClassName = "fast-ssd",
            Keys = ["app-release"],
            CloneFrom = "ci-0",
            Retention = new VolumeRetention { DeleteAfterIdle = "168h" },
        },
        Status = new CacheVolumeStatus
        {
            ObservedGeneration = 1,
            Conditions = [Ready()],
            Phase = CacheVolumePhase.Draining,
            Endpoint = "ci-release.builds.svc:1234",
            Capacity = "100Gi",
            UsedBytes = 12_345_678_901,
            ActiveBuilds = 1,
            LastUsed = s_time,
            LastGC = s_time,
            CacheHitRatio = 0.75,
        },
    };

    internal static SecretBinding SecretBinding() => new()
    {
        Metadata = new V1ObjectMeta { Name = "registry-tls", NamespaceProperty = "builds" },
        Spec = new SecretBindingSpec
        {
            Kind = SecretBindingKind.RegistryTls,
            Pool = "ci",
            RegistryTls = new RegistryTlsBinding
            {
                Registry = "registry.test:5000",
                CaSecretRef = new SecretKeyReference { Name = "registry-ca" },
                ClientKeyPairSecretRef = new SecretReference { Name = "registry-client" },
            },
        },
        Status = new SecretBindingStatus
        {
            ObservedGeneration = 1,
            Conditions = [Ready()],
            IssuedSecret = "tenant-a/buildpool-client",
            CertificateSerialNumber = "0a1b2c",
            CertificateNotAfter = s_time,
        },
    };

    internal static SecretBinding ClientAccessBinding() => new()
    {
        Metadata = new V1ObjectMeta { Name = "tenant-a", NamespaceProperty = "builds" },
        Spec = new SecretBindingSpec
        {
            Kind = SecretBindingKind.ClientAccess,
            Pool = "ci",
            ClientAccess = new ClientAccessBinding { TargetNamespace = "tenant-a", SecretName = "ci-client", Untrusted = true, Validity = "720h" },
        },
    };

    internal static SecretBinding CacheBackendBinding() => new()
    {
        Metadata = new V1ObjectMeta { Name = "s3", NamespaceProperty = "builds" },
        Spec = new SecretBindingSpec
        {
            Kind = SecretBindingKind.CacheBackendCredentials,
            Pool = "ci",
            CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "s3-creds", Delivery = CredentialDelivery.Files, MountPath = "/run/creds" },
        },
    };

    internal static SecretBinding EndpointTlsBinding() => new()
    {
        Metadata = new V1ObjectMeta { Name = "endpoint", NamespaceProperty = "builds" },
        Spec = new SecretBindingSpec
        {
            Kind = SecretBindingKind.EndpointTls,
            Pool = "ci",
            EndpointTls = new EndpointTlsBinding
            {
                ServerCertificateSecretRef = new SecretReference { Name = "endpoint-tls" },
                ClientCaSecretRef = new SecretKeyReference { Name = "client-ca", Key = "ca.crt" },
            },
        },
    };

    internal static RegistryCacheTarget RegistryCacheTarget() => new()
    {
        Metadata = new V1ObjectMeta { Name = "shared-cache", NamespaceProperty = "builds" },
        Spec = new RegistryCacheTargetSpec
        {
            Ref = "registry.test:5000/cache/{key}",
            Mode = CacheExportMode.Max,
            Compression = CacheCompression.Zstd,
            CompressionLevel = 3,
            ImageManifest = true,
            OciMediatypes = false,
            IgnoreError = true,
            Credentials = "registry-tls",
            Retention = new CacheRetentionPolicy { MaxAge = "336h", MaxTags = 100, MaxBytes = "200Gi" },
            Managed = true,
        },
        Status = new RegistryCacheTargetStatus
        {
            ObservedGeneration = 2,
            Conditions = [Ready()],
            Reachable = true,
            TagCount = 42,
            Bytes = 9_876_543_210,
            LastGC = s_time,
            FreedBytes = 1024,
            BuildxFlags = new BuildxCacheFlags
            {
                CacheFrom = "type=registry,ref=registry.test:5000/cache/{key}",
                CacheTo = "type=registry,ref=registry.test:5000/cache/{key},mode=max",
            },
        },
    };
}
