using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Registry;
using k8s.Models;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Pure: a valid pool in, the objects it should own out. The CacheVolume reconciler turns each
/// volume into its PVC, config and builder; this planner only decides which volumes exist.
/// </summary>
public static class BuilderPoolPlanner
{
    public const int GatewayMetricsPort = 9090;

    /// <param name="pool">A valid pool.</param>
    /// <param name="options">The operator's settings.</param>
    /// <param name="ownedVolumes">The volumes the pool created (Dedicated keys keep theirs).</param>
    /// <param name="injectedCache">The cache target the gateway injects, if any (its published flags, and for a managed one its read-only listener).</param>
    /// <param name="tls">The gateway's TLS files; null when TLS is off.</param>
    /// <param name="dedicated">Dedicated mode: the keys served and what became of the gateway's demands; null plans only the keys that have volumes.</param>
    public static BuilderPoolPlan Plan(BuilderPool pool, OperatorOptions options, IReadOnlyList<CacheVolume>? ownedVolumes = null, RegistryCacheTarget? injectedCache = null, GatewayTls? tls = null, DedicatedAssignment? dedicated = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        var name = pool.Metadata.Name;
        var ns = pool.Metadata.NamespaceProperty;
        var port = pool.Spec.Endpoint.Port;
        var assignment = pool.Spec.Assignment.Mode == AssignmentMode.Dedicated
            ? dedicated ?? DedicatedDemandPlanner.Plan(pool, ownedVolumes ?? [], [], options.DemandTtl, DateTime.MinValue)
            : DedicatedAssignment.None;
        var volumes = pool.Spec.Assignment.Mode == AssignmentMode.Hashed
            ? Enumerable.Range(0, pool.Spec.Assignment.Volumes).Select(i => Volume(pool, ResourceNames.HashedVolume(name, i), key: null, tenant: null)).ToList()
            : assignment.Keys.Select(k => Volume(pool, DedicatedKeys.VolumeName(name, k.Key), k.Key, k.Tenant)).ToList();
        var (serviceAccount, role, roleBinding) = GatewayAccess(pool);
        var gateway = Gateway(pool, options, injectedCache, tls);
        var endpoint = $"tcp://{ResourceNames.GatewayService(name)}.{ns}.svc:{port}";
        return new BuilderPoolPlan(volumes, serviceAccount, role, roleBinding, gateway, GatewayService(pool), BuildersDisruptionBudget(pool), BuildersNetworkPolicy(pool, options))
        {
            Endpoint = endpoint,
            BuildxCommand = BuildxCommand(name, endpoint, pool.Spec.Endpoint.Tls),
            SignalLease = SignalLease(pool),
            Dedicated = assignment,
        };
    }

    /// <summary>
    /// Where the gateway writes its signals (<see cref="GatewaySignals"/>). The operator creates it
    /// so the gateway needs no create permission: it may only patch this one object by name.
    /// </summary>
    private static V1Lease SignalLease(BuilderPool pool) => new()
    {
        ApiVersion = "coordination.k8s.io/v1",
        Kind = "Lease",
        Metadata = Owners.ChildMeta(pool, GatewaySignals.LeaseName(pool.Metadata.Name), Owners.PoolLabels(pool.Metadata.Name, WellKnown.GatewayComponent)),
        Spec = new V1LeaseSpec(),
    };

    /// <summary>
    /// The gateway's ServiceAccount, and what it may do: read its pool, the volumes and the
    /// bindings, and patch its pool's signal Lease. Nothing it may write decides a pool's spec or a
    /// volume's policy: it cannot patch BuilderPools or CacheVolumes.
    /// </summary>
    private static (V1ServiceAccount ServiceAccount, V1Role Role, V1RoleBinding RoleBinding) GatewayAccess(BuilderPool pool)
    {
        var name = pool.Metadata.Name;
        var labels = Owners.PoolLabels(name, WellKnown.GatewayComponent);
        var serviceAccount = new V1ServiceAccount
        {
            ApiVersion = "v1",
            Kind = "ServiceAccount",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), labels),
            AutomountServiceAccountToken = true,
        };

        var role = new V1Role
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "Role",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), labels),
            Rules =
            [
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["cachevolumes"], Verbs = ["get", "list", "watch"] },
                // Its own pool only for reads by name; list and watch cannot be limited by name on
                // every cluster version, so they are namespace-wide.
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["builderpools"], Verbs = ["get"], ResourceNames = [name] },
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["builderpools"], Verbs = ["list", "watch"] },
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["secretbindings"], Verbs = ["get", "list", "watch"] },
                // Its signals to the operator: one Lease, by name, which the operator created.
                new V1PolicyRule { ApiGroups = ["coordination.k8s.io"], Resources = ["leases"], Verbs = ["get", "patch"], ResourceNames = [GatewaySignals.LeaseName(name)] },
            ],
        };

        var roleBinding = new V1RoleBinding
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "RoleBinding",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), labels),
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = ResourceNames.Gateway(name) },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = ResourceNames.Gateway(name), NamespaceProperty = pool.Metadata.NamespaceProperty }],
        };
        return (serviceAccount, role, roleBinding);
    }

    private static V1Deployment Gateway(BuilderPool pool, OperatorOptions options, RegistryCacheTarget? injectedCache, GatewayTls? tls)
    {
        var name = pool.Metadata.Name;
        var labels = Owners.PoolLabels(name, WellKnown.GatewayComponent);
        var gateway = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), labels),
            Spec = new V1DeploymentSpec
            {
                Replicas = options.GatewayReplicas,
                Selector = new V1LabelSelector { MatchLabels = Selector(labels) },
                Strategy = new V1DeploymentStrategy
                {
                    Type = "RollingUpdate",
                    RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 0, MaxSurge = 1 },
                },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels) },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = ResourceNames.Gateway(name),
                        ImagePullSecrets = PullSecrets.For(options),
                        // Running builds hold streams open; give them time to finish on a rollout.
                        TerminationGracePeriodSeconds = 600,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Containers = [GatewayContainer(pool, options, injectedCache, tls)],
                        Volumes = [new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("64Mi") } }],
                    },
                },
            },
        };

        if (tls is not null)
        {
            MountTls(gateway.Spec.Template, tls, name);
        }

        return gateway;
    }

    private static V1Container GatewayContainer(BuilderPool pool, OperatorOptions options, RegistryCacheTarget? injectedCache, GatewayTls? tls)
    {
        var port = pool.Spec.Endpoint.Port;
        return new V1Container
        {
            Name = "gateway",
            Image = options.GatewayImage,
            Args =
            [
                "gateway",
                "--pool", pool.Metadata.Name,
                "--namespace", pool.Metadata.NamespaceProperty,
                "--listen", $"0.0.0.0:{port}",
                "--metrics-address", $"0.0.0.0:{GatewayMetricsPort}",
                .. options.GatewayLogArgs,
                .. InjectionArgs(injectedCache?.Status?.BuildxFlags, injectedCache is { Spec.Managed: true } managed ? ManagedRegistry.ReadOnlyHost(managed) : null),
                .. tls?.Args() ?? [],
            ],
            Ports =
            [
                new V1ContainerPort { Name = "buildkit", ContainerPort = port, Protocol = "TCP" },
                new V1ContainerPort { Name = "metrics", ContainerPort = GatewayMetricsPort, Protocol = "TCP" },
            ],
            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/readyz", Port = "metrics" } },
            LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = "metrics" } },
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("128Mi") },
                Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("1Gi") },
            },
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false,
                ReadOnlyRootFilesystem = true,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
            // The root file system is read-only; the .NET runtime still wants a
            // writable /tmp (its diagnostics socket, crash dumps).
            VolumeMounts = [new V1VolumeMount { Name = "tmp", MountPath = "/tmp" }],
        };
    }

    private static V1Service GatewayService(BuilderPool pool)
    {
        var labels = Owners.PoolLabels(pool.Metadata.Name, WellKnown.GatewayComponent);
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Owners.ChildMeta(pool, ResourceNames.GatewayService(pool.Metadata.Name), labels),
            Spec = new V1ServiceSpec
            {
                Type = pool.Spec.Endpoint.ServiceType.ToString(),
                Selector = Selector(labels),
                Ports = [new V1ServicePort { Name = "buildkit", Port = pool.Spec.Endpoint.Port, TargetPort = "buildkit", Protocol = "TCP" }],
            },
        };
    }

    // One builder at a time may be evicted voluntarily; its volume waits for it on its node.
    private static V1PodDisruptionBudget BuildersDisruptionBudget(BuilderPool pool)
    {
        var labels = Owners.PoolLabels(pool.Metadata.Name, WellKnown.BuilderComponent);
        return new V1PodDisruptionBudget
        {
            ApiVersion = "policy/v1",
            Kind = "PodDisruptionBudget",
            Metadata = Owners.ChildMeta(pool, ResourceNames.BuildersPolicy(pool.Metadata.Name), labels),
            Spec = new V1PodDisruptionBudgetSpec
            {
                MaxUnavailable = 1,
                Selector = new V1LabelSelector { MatchLabels = Selector(labels) },
            },
        };
    }

    // A builder runs whatever a build asks: only this pool's gateway and the operator may reach it.
    private static V1NetworkPolicy BuildersNetworkPolicy(BuilderPool pool, OperatorOptions options)
    {
        var builderLabels = Owners.PoolLabels(pool.Metadata.Name, WellKnown.BuilderComponent);
        var gatewayLabels = Owners.PoolLabels(pool.Metadata.Name, WellKnown.GatewayComponent);
        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Owners.ChildMeta(pool, ResourceNames.BuildersPolicy(pool.Metadata.Name), builderLabels),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = Selector(builderLabels) },
                PolicyTypes = ["Ingress"],
                Ingress =
                [
                    new V1NetworkPolicyIngressRule
                    {
                        FromProperty =
                        [
                            new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = Selector(gatewayLabels) } },
                            new V1NetworkPolicyPeer
                            {
                                NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = options.OperatorNamespace } },
                                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [WellKnown.NameLabel] = "buildpool", [WellKnown.ComponentLabel] = "operator" } },
                            },
                        ],
                        Ports = [new V1NetworkPolicyPort { Port = 1234, Protocol = "TCP" }],
                    },
                ],
            },
        };
    }

    /// <summary>
    /// The gateway flags for a pool's opted-in cache target, from the target's published
    /// <c>--cache-to</c> value, so injected builds use exactly the flags people are told to use.
    /// </summary>
    /// <param name="readOnlyHost">
    /// A managed registry's read-only listener (<see cref="ManagedRegistry.ReadOnlyHost"/>):
    /// isolated builds import the same repository from there, their forks holding no client
    /// certificate for the read-write one.
    /// </param>
    public static IEnumerable<string> InjectionArgs(BuildxCacheFlags? flags, string? readOnlyHost = null)
    {
        if (flags?.CacheTo is not { Length: > 0 } cacheTo)
        {
            yield break;
        }

        var attrs = cacheTo.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToList();
        var reference = attrs.FirstOrDefault(kv => kv[0] == "ref")?[1];
        if (reference is null || !reference.Contains("{key}", StringComparison.Ordinal))
        {
            yield break;
        }

        yield return "--inject-cache-ref";
        yield return reference;
        if (readOnlyHost is not null)
        {
            yield return "--inject-cache-ref-untrusted";
            yield return ManagedRegistry.EffectiveRef(reference, readOnlyHost);
        }

        foreach (var kv in attrs.Where(kv => kv[0] is not ("type" or "ref" or "mode")))
        {
            yield return "--inject-cache-attr";
            yield return $"{kv[0]}={kv[1]}";
        }
    }

    /// <summary>
    /// Mounts the gateway's certificates. Only ca.crt of the tenant CA is projected: its key stays
    /// in the operator's hands; nothing of the internal CA but the client certificate it signed. The digest annotation makes a rotated certificate a rolling
    /// update, which (maxUnavailable 0, a PDB, graceful shutdown) drains each old replica.
    /// </summary>
    private static void MountTls(V1PodTemplateSpec template, GatewayTls tls, string pool)
    {
        if (tls.Digest is not null)
        {
            template.Metadata.Annotations = new Dictionary<string, string> { [GatewayTls.DigestAnnotation] = tls.Digest };
        }

        var caSources = new List<V1VolumeProjection>
        {
            new() { Secret = new V1SecretProjection { Name = ResourceNames.CaSecret(pool), Items = [new V1KeyToPath { Key = "ca.crt", Path = "ca.crt" }] } },
        };
        if (tls.ClientCa is { } clientCa)
        {
            caSources.Add(new V1VolumeProjection
            {
                Secret = new V1SecretProjection { Name = clientCa.Name, Items = [new V1KeyToPath { Key = clientCa.Key ?? "ca.crt", Path = GatewayTls.ClientCaFile }] },
            });
        }

        V1KeyToPath[] pair = [new V1KeyToPath { Key = "tls.crt", Path = "tls.crt" }, new V1KeyToPath { Key = "tls.key", Path = "tls.key" }];
        template.Spec.Volumes =
        [
            .. template.Spec.Volumes ?? [],
            new V1Volume { Name = "tls", Secret = new V1SecretVolumeSource { SecretName = tls.ServerSecret, Items = pair } },
            new V1Volume { Name = "ca", Projected = new V1ProjectedVolumeSource { Sources = caSources } },
            new V1Volume
            {
                Name = Security.PoolCertificates.UpstreamVolume,
                Secret = new V1SecretVolumeSource { SecretName = tls.UpstreamSecret ?? ResourceNames.BuilderClientTlsSecret(pool), Items = [.. pair, new V1KeyToPath { Key = "ca.crt", Path = "ca.crt" }] },
            },
        ];
        template.Spec.Containers[0].VolumeMounts =
        [
            .. template.Spec.Containers[0].VolumeMounts ?? [],
            new V1VolumeMount { Name = "tls", MountPath = GatewayTls.ServerDirectory, ReadOnlyProperty = true },
            new V1VolumeMount { Name = "ca", MountPath = GatewayTls.CaDirectory, ReadOnlyProperty = true },
            new V1VolumeMount { Name = "gateway-tls", MountPath = GatewayTls.UpstreamDirectory, ReadOnlyProperty = true },
        ];
    }

    private static CacheVolume Volume(BuilderPool pool, string name, string? key, string? tenant)
    {
        var metadata = Owners.ChildMeta(pool, name, Owners.PoolLabels(pool.Metadata.Name, WellKnown.BuilderComponent));
        if (tenant is not null)
        {
            metadata.Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [DedicatedDemandPlanner.TenantAnnotation] = tenant };
        }

        return new CacheVolume { Metadata = metadata, Spec = new CacheVolumeSpec { Pool = pool.Metadata.Name, Keys = key is null ? null : [key] } };
    }

    public static string BuildxCommand(string pool, string endpoint, EndpointTlsSpec tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        var command = $"docker buildx create --name {pool} --driver remote {endpoint}";
        if (tls.Mode == TlsMode.Disabled)
        {
            return command + " --use";
        }

        // The same files, in the same place, as a ClientAccess binding's command names.
        var host = new Uri(endpoint.Replace("tcp://", "https://", StringComparison.Ordinal)).Host;
        var dir = Bindings.ClientAccessCommand.Directory(pool);
        var certs = tls.RequireClientCertificate ? $",cert={dir}/cert.pem,key={dir}/key.pem" : string.Empty;
        return $"{command} --driver-opt cacert={dir}/ca.pem{certs},servername={host} --use";
    }

    // Only the identifying labels: a selector is immutable on a Deployment, so it must never grow.
    private static Dictionary<string, string> Selector(IDictionary<string, string> labels) => new(StringComparer.Ordinal)
    {
        [WellKnown.ComponentLabel] = labels[WellKnown.ComponentLabel],
        [WellKnown.PoolLabel] = labels[WellKnown.PoolLabel],
    };
}
