using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using k8s.Models;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Pure: a valid pool in, the objects it should own out. The CacheVolume reconciler turns each
/// volume into its PVC, config and builder; this planner only decides which volumes exist.
/// </summary>
public static class BuilderPoolPlanner
{
    public const int GatewayMetricsPort = 9090;

    public static BuilderPoolPlan Plan(BuilderPool pool, OperatorOptions options, IReadOnlyList<CacheVolume>? ownedVolumes = null, BuildxCacheFlags? injectedCache = null, GatewayTls? tls = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        var name = pool.Metadata.Name;
        var ns = pool.Metadata.NamespaceProperty;
        var spec = pool.Spec;
        var gatewayLabels = Owners.PoolLabels(name, WellKnown.GatewayComponent);
        var builderLabels = Owners.PoolLabels(name, WellKnown.BuilderComponent);
        var port = spec.Endpoint.Port;

        var volumes = new List<CacheVolume>();
        var consumed = new List<string>();
        var unmet = 0;
        if (spec.Assignment.Mode == AssignmentMode.Hashed)
        {
            for (var i = 0; i < spec.Assignment.Volumes; i++)
            {
                volumes.Add(Volume(pool, ResourceNames.HashedVolume(name, i), key: null));
            }
        }
        else
        {
            // Keys that already have a volume keep it; new keys get one while there is room.
            var keys = (ownedVolumes ?? [])
                .Where(v => v.Spec.Keys is { Count: > 0 })
                .OrderBy(v => v.Metadata.Name, StringComparer.Ordinal)
                .Select(v => v.Spec.Keys![0])
                .ToList();
            var known = keys.ToHashSet(StringComparer.Ordinal);
            foreach (var (annotation, key) in (pool.Metadata.Annotations ?? new Dictionary<string, string>())
                .Where(a => a.Key.StartsWith(DedicatedKeys.DemandPrefix, StringComparison.Ordinal))
                .OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                if (known.Contains(key))
                {
                    consumed.Add(annotation);
                }
                else if (keys.Count < spec.Assignment.MaxVolumes)
                {
                    keys.Add(key);
                    known.Add(key);
                    consumed.Add(annotation);
                }
                else
                {
                    unmet++;
                }
            }

            volumes.AddRange(keys.Select(k => Volume(pool, DedicatedKeys.VolumeName(name, k), k)));
        }

        var serviceAccount = new V1ServiceAccount
        {
            ApiVersion = "v1",
            Kind = "ServiceAccount",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), gatewayLabels),
            AutomountServiceAccountToken = true,
        };

        // The gateway watches its pool's volumes and writes demand / last-used annotations on them.
        var role = new V1Role
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "Role",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), gatewayLabels),
            Rules =
            [
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["cachevolumes"], Verbs = ["get", "list", "watch", "patch"] },
                // Its own pool only for reads by name and for Dedicated demand annotations; list and
                // watch cannot be limited by name on every cluster version, so they are namespace-wide.
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["builderpools"], Verbs = ["get", "patch"], ResourceNames = [name] },
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["builderpools"], Verbs = ["list", "watch"] },
                new V1PolicyRule { ApiGroups = [GroupVersion.Group], Resources = ["secretbindings"], Verbs = ["get", "list", "watch"] },
            ],
        };

        var roleBinding = new V1RoleBinding
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "RoleBinding",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), gatewayLabels),
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = ResourceNames.Gateway(name) },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = ResourceNames.Gateway(name), NamespaceProperty = ns }],
        };

        var gateway = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Owners.ChildMeta(pool, ResourceNames.Gateway(name), gatewayLabels),
            Spec = new V1DeploymentSpec
            {
                Replicas = options.GatewayReplicas,
                Selector = new V1LabelSelector { MatchLabels = Selector(gatewayLabels) },
                Strategy = new V1DeploymentStrategy
                {
                    Type = "RollingUpdate",
                    RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 0, MaxSurge = 1 },
                },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(gatewayLabels) },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = ResourceNames.Gateway(name),
                        // Running builds hold streams open; give them time to finish on a rollout.
                        TerminationGracePeriodSeconds = 600,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "gateway",
                                Image = options.GatewayImage,
                                Args =
                                [
                                    "gateway",
                                    "--pool", name,
                                    "--namespace", ns,
                                    "--listen", $"0.0.0.0:{port}",
                                    "--metrics-address", $"0.0.0.0:{GatewayMetricsPort}",
                                    .. InjectionArgs(injectedCache),
                                    .. tls?.Args() ?? [],
                                ],
                                Ports =
                                [
                                    new V1ContainerPort { Name = "buildkit", ContainerPort = port },
                                    new V1ContainerPort { Name = "metrics", ContainerPort = GatewayMetricsPort },
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
                            },
                        ],
                        Volumes = [new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("64Mi") } }],
                    },
                },
            },
        };

        if (tls is not null)
        {
            MountTls(gateway.Spec.Template, tls, name);
        }

        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Owners.ChildMeta(pool, ResourceNames.GatewayService(name), gatewayLabels),
            Spec = new V1ServiceSpec
            {
                Type = spec.Endpoint.ServiceType.ToString(),
                Selector = Selector(gatewayLabels),
                Ports = [new V1ServicePort { Name = "buildkit", Port = port, TargetPort = "buildkit", Protocol = "TCP" }],
            },
        };

        // One builder at a time may be evicted voluntarily; its volume waits for it on its node.
        var pdb = new V1PodDisruptionBudget
        {
            ApiVersion = "policy/v1",
            Kind = "PodDisruptionBudget",
            Metadata = Owners.ChildMeta(pool, ResourceNames.BuildersPolicy(name), builderLabels),
            Spec = new V1PodDisruptionBudgetSpec
            {
                MaxUnavailable = 1,
                Selector = new V1LabelSelector { MatchLabels = Selector(builderLabels) },
            },
        };

        // A builder runs whatever a build asks: only this pool's gateway and the operator may reach it.
        var networkPolicy = new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Owners.ChildMeta(pool, ResourceNames.BuildersPolicy(name), builderLabels),
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

        var endpoint = $"tcp://{ResourceNames.GatewayService(name)}.{ns}.svc:{port}";
        return new BuilderPoolPlan(volumes, serviceAccount, role, roleBinding, gateway, service, pdb, networkPolicy)
        {
            Endpoint = endpoint,
            BuildxCommand = BuildxCommand(name, endpoint, spec.Endpoint.Tls),
            ConsumedDemand = consumed,
            UnmetDemand = unmet,
        };
    }

    /// <summary>
    /// The gateway flags for a pool's opted-in cache target, from the target's published
    /// <c>--cache-to</c> value, so injected builds use exactly the flags people are told to use.
    /// </summary>
    public static IEnumerable<string> InjectionArgs(BuildxCacheFlags? flags)
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
        foreach (var kv in attrs.Where(kv => kv[0] is not ("type" or "ref" or "mode")))
        {
            yield return "--inject-cache-attr";
            yield return $"{kv[0]}={kv[1]}";
        }
    }

    /// <summary>
    /// Mounts the gateway's certificates. Only ca.crt of the pool CA is projected: its key stays
    /// in the operator's hands. The digest annotation makes a rotated certificate a rolling
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
            new V1Volume { Name = "gateway-tls", Secret = new V1SecretVolumeSource { SecretName = ResourceNames.GatewayTlsSecret(pool), Items = pair } },
        ];
        template.Spec.Containers[0].VolumeMounts =
        [
            .. template.Spec.Containers[0].VolumeMounts ?? [],
            new V1VolumeMount { Name = "tls", MountPath = GatewayTls.ServerDirectory, ReadOnlyProperty = true },
            new V1VolumeMount { Name = "ca", MountPath = GatewayTls.CaDirectory, ReadOnlyProperty = true },
            new V1VolumeMount { Name = "gateway-tls", MountPath = GatewayTls.UpstreamDirectory, ReadOnlyProperty = true },
        ];
    }

    private static CacheVolume Volume(BuilderPool pool, string name, string? key) => new()
    {
        Metadata = Owners.ChildMeta(pool, name, Owners.PoolLabels(pool.Metadata.Name, WellKnown.BuilderComponent)),
        Spec = new CacheVolumeSpec { Pool = pool.Metadata.Name, Keys = key is null ? null : [key] },
    };

    public static string BuildxCommand(string pool, string endpoint, EndpointTlsSpec tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        var command = $"docker buildx create --name {pool} --driver remote {endpoint}";
        if (tls.Mode == TlsMode.Disabled)
        {
            return command + " --use";
        }

        var host = new Uri(endpoint.Replace("tcp://", "https://", StringComparison.Ordinal)).Host;
        var certs = tls.RequireClientCertificate ? ",cert=$PWD/cert.pem,key=$PWD/key.pem" : string.Empty;
        return $"{command} --driver-opt cacert=$PWD/ca.pem{certs},servername={host} --use";
    }

    // Only the identifying labels: a selector is immutable on a Deployment, so it must never grow.
    private static Dictionary<string, string> Selector(IDictionary<string, string> labels) => new(StringComparer.Ordinal)
    {
        [WellKnown.ComponentLabel] = labels[WellKnown.ComponentLabel],
        [WellKnown.PoolLabel] = labels[WellKnown.PoolLabel],
    };
}
