using System.Security.Cryptography.X509Certificates;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Registry;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>
/// <c>managed: true</c>: the in-cluster registry's children, the status, and the owner cascade.
/// The local API runs no pods and resolves no cluster DNS, so once the registry Deployment is
/// (simulated) ready the check against its Service reports Unreachable: that is expected here.
/// </summary>
public sealed class ManagedRegistryTests
{
    private const string Ns = "default";
    private static readonly OperatorOptions Options = new() { RegistryGcInterval = TimeSpan.FromSeconds(2) };
    private const string Host = "cache-registry.default.svc:5000";

    private static V1Condition? Condition(RegistryCacheTarget? target, string type) =>
        target?.Status?.Conditions.FirstOrDefault(c => c.Type == type && c.ObservedGeneration == target.Metadata.Generation);

    private static RegistryCacheTarget ManagedTarget(CacheRetentionPolicy? retention = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "cache", NamespaceProperty = Ns },
        Spec = new RegistryCacheTargetSpec { Ref = "cache/app:{key}", Managed = true, Retention = retention },
    };

    private static string Text(V1Secret secret, string key) => System.Text.Encoding.UTF8.GetString(secret.Data[key]);

    private static IEnumerable<string?> Usages(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()).Select(o => o.Value);

    private static bool Is(RegistryCacheTarget? target, string type, string reason) =>
        Condition(target, type) is { Status: "True" } c && c.Reason == reason;

    [Theory]
    [InlineData("cache/app:{key}", "h.svc:5000/cache/app:{key}")]
    [InlineData("elsewhere.example.test:5000/cache/app:{key}", "h.svc:5000/cache/app:{key}")]
    [InlineData("localhost/cache/{key}", "h.svc:5000/cache/{key}")]
    [InlineData("app:{key}", "h.svc:5000/app:{key}")]
    public void The_effective_ref_puts_the_in_cluster_host_in_front_of_the_repository(string reference, string expected) =>
        Assert.Equal(expected, ManagedRegistry.EffectiveRef(reference, "h.svc:5000"));

    [Fact]
    public void The_claim_is_maxBytes_plus_20_percent_rounded_up_to_Gi_or_50Gi()
    {
        Assert.Equal(50L << 30, ManagedRegistry.StorageBytes(null));
        Assert.Equal(50L << 30, ManagedRegistry.StorageBytes(new RetentionLimits(MaxTags: 3)));
        Assert.Equal(12L << 30, ManagedRegistry.StorageBytes(new RetentionLimits(MaxBytes: 10L << 30)));
        Assert.Equal(1L << 30, ManagedRegistry.StorageBytes(new RetentionLimits(MaxBytes: 1000)));
        Assert.Equal(13L << 30, ManagedRegistry.StorageBytes(new RetentionLimits(MaxBytes: (10L << 30) + 1)));
    }

    [Fact]
    public void A_target_name_too_long_for_its_Service_is_an_invalid_spec()
    {
        var target = new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = new string('a', 60), NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec { Ref = "cache/app:{key}", Managed = true },
        };
        var errors = RegistryCacheTargetValidator.Validate(target, out _, out _);
        Assert.StartsWith("metadata.name:", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_managed_target_gets_an_owned_registry_Deployment_Service_and_claim_and_flags_for_its_Service()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        var targets = new ResourceClient<RegistryCacheTarget>(h.Kubernetes);
        var created = await targets.CreateAsync(new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = "cache", NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec
            {
                Ref = "cache/app:{key}",
                Managed = true,
                Mode = CacheExportMode.Max,
                Retention = new CacheRetentionPolicy { MaxBytes = "10Gi", MaxTags = 20 },
            },
        });

        var starting = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Reconciling", "RegistryStarting"), "the target to wait for its registry");
        Assert.Contains(Host, Condition(starting, "Reconciling")!.Message, StringComparison.Ordinal);
        Assert.Null(starting!.Status.Reachable);
        // No registry.insecure: BuildKit would then speak plain HTTP and present no client certificate.
        Assert.Equal($"type=registry,ref={Host}/cache/app:{{key}},mode=max", starting.Status.BuildxFlags!.CacheTo);
        Assert.Equal($"type=registry,ref={Host}/cache/app:{{key}}", starting.Status.BuildxFlags.CacheFrom);

        void AssertOwned(V1ObjectMeta meta)
        {
            var owner = Assert.Single(meta.OwnerReferences);
            Assert.Equal("RegistryCacheTarget", owner.Kind);
            Assert.Equal(created.Metadata.Uid, owner.Uid);
            Assert.True(owner.Controller);
            Assert.Equal("cache", meta.Labels[ManagedRegistry.TargetLabel]);
            Assert.Equal("registry", meta.Labels["app.kubernetes.io/component"]);
        }

        var claim = await h.Claims.GetAsync(Ns, "cache-registry");
        Assert.NotNull(claim);
        AssertOwned(claim.Metadata);
        Assert.Equal(12L << 30, (long)claim.Spec.Resources.Requests["storage"].ToDecimal());
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);

        var service = await new ResourceClient<V1Service>(h.Kubernetes).GetAsync(Ns, "cache-registry");
        Assert.NotNull(service);
        AssertOwned(service.Metadata);
        Assert.Equal("ClusterIP", service.Spec.Type);
        Assert.Equal(
            [("https", 5000, "5000", "TCP"), ("read-only", 5001, "5001", "TCP")],
            service.Spec.Ports.Select(p => (p.Name, p.Port, p.TargetPort.Value, p.Protocol)).OrderBy(p => p.Port));

        var deployment = await h.Deployments.GetAsync(Ns, "cache-registry");
        Assert.NotNull(deployment);
        AssertOwned(deployment.Metadata);
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("Recreate", deployment.Spec.Strategy.Type);
        foreach (var (key, value) in deployment.Spec.Selector.MatchLabels)
        {
            Assert.Equal(value, deployment.Spec.Template.Metadata.Labels[key]);
            Assert.Equal(value, service.Spec.Selector[key]);
        }

        var pod = deployment.Spec.Template.Spec;
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.NotNull(pod.SecurityContext.RunAsUser);
        Assert.NotEqual(0, pod.SecurityContext.RunAsUser);
        Assert.Equal(["registry", "read-only"], pod.Containers.Select(c => c.Name));
        var container = pod.Containers[0];
        Assert.Equal("registry:2", container.Image);
        // The kubelet holds no client certificate: an HTTP probe could never pass the TLS handshake.
        Assert.Equal("5000", container.ReadinessProbe.TcpSocket.Port.Value);
        Assert.Equal("5000", container.LivenessProbe.TcpSocket.Port.Value);
        Assert.Contains(container.VolumeMounts, m => m.MountPath == ManagedRegistry.ConfigDirectory && m.ReadOnlyProperty == true);
        Assert.Contains(container.VolumeMounts, m => m.MountPath == ManagedRegistry.TlsDirectory && m.ReadOnlyProperty == true);
        Assert.Contains(pod.Volumes, v => v.ConfigMap?.Name == "cache-registry");
        Assert.Contains(pod.Volumes, v => v.Secret?.SecretName == "cache-registry-tls");
        Assert.Matches("^[0-9a-f]{16}$", deployment.Spec.Template.Metadata.Annotations[ManagedRegistry.TlsDigestAnnotation]);

        var config = await new ResourceClient<V1ConfigMap>(h.Kubernetes).GetAsync(Ns, "cache-registry");
        Assert.NotNull(config);
        AssertOwned(config.Metadata);
        var yaml = config.Data[ManagedRegistry.ConfigKey];
        Assert.Contains("certificate: /etc/docker/registry-tls/tls.crt", yaml, StringComparison.Ordinal);
        Assert.Contains("key: /etc/docker/registry-tls/tls.key", yaml, StringComparison.Ordinal);
        Assert.Contains("clientcas:\n      - /etc/docker/registry-tls/ca.crt", yaml, StringComparison.Ordinal);
        Assert.Contains("delete:\n    enabled: true", yaml, StringComparison.Ordinal);

        // The read-only listener: the same image and storage (mounted read-only), its own
        // configuration from the same ConfigMap, TLS with the same certificate and no client CA.
        var readOnly = pod.Containers[1];
        Assert.Equal("registry:2", readOnly.Image);
        Assert.Equal(["/bin/registry", "serve", "/etc/docker/registry/read-only.yml"], readOnly.Command);
        Assert.Equal(5001, Assert.Single(readOnly.Ports).ContainerPort);
        Assert.Equal("5001", readOnly.ReadinessProbe.TcpSocket.Port.Value);
        Assert.Equal("5001", readOnly.LivenessProbe.TcpSocket.Port.Value);
        Assert.Contains(readOnly.VolumeMounts, m => m.Name == "data" && m.MountPath == "/var/lib/registry" && m.ReadOnlyProperty == true);
        Assert.DoesNotContain(container.VolumeMounts, m => m.Name == "data" && m.ReadOnlyProperty == true);
        Assert.False(readOnly.SecurityContext.AllowPrivilegeEscalation);
        var readOnlyYaml = config.Data[ManagedRegistry.ReadOnlyConfigKey];
        Assert.Contains("addr: :5001", readOnlyYaml, StringComparison.Ordinal);
        Assert.Contains("readonly:\n      enabled: true", readOnlyYaml, StringComparison.Ordinal);
        Assert.Contains("certificate: /etc/docker/registry-tls/tls.crt", readOnlyYaml, StringComparison.Ordinal);
        Assert.Contains("rootdirectory: /var/lib/registry", readOnlyYaml, StringComparison.Ordinal);
        Assert.DoesNotContain("clientcas", readOnlyYaml, StringComparison.Ordinal);
        Assert.DoesNotContain("delete:", readOnlyYaml, StringComparison.Ordinal);

        // Its PKI: a CA of its own, a server certificate for every name of the Service, one client certificate.
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        var caSecret = (await secrets.GetAsync(Ns, "cache-registry-ca"))!;
        var serverSecret = (await secrets.GetAsync(Ns, "cache-registry-tls"))!;
        var clientSecret = (await secrets.GetAsync(Ns, "cache-registry-client"))!;
        foreach (var secret in new[] { caSecret, serverSecret, clientSecret })
        {
            AssertOwned(secret.Metadata);
        }

        using var ca = X509Certificate2.CreateFromPem(Text(caSecret, "ca.crt"));
        using var server = X509Certificate2.CreateFromPem(Text(serverSecret, "tls.crt"));
        using var client = X509Certificate2.CreateFromPem(Text(clientSecret, "tls.crt"));
        Assert.Equal(ca.Subject, server.Issuer);
        Assert.Equal(ca.Subject, client.Issuer);
        Assert.Equal(Text(caSecret, "ca.crt"), Text(serverSecret, "ca.crt"));
        Assert.Equal(Text(caSecret, "ca.crt"), Text(clientSecret, "ca.crt"));
        Assert.Equal(
            ["cache-registry", "cache-registry.default", "cache-registry.default.svc", "cache-registry.default.svc.cluster.local"],
            server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().Order(StringComparer.Ordinal));
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], Usages(server));
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], Usages(client));
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal("registry:2", Assert.Single(pod.InitContainers).Image);
        Assert.Contains(pod.Volumes, v => v.PersistentVolumeClaim?.ClaimName == "cache-registry");

        // Ready (as far as the emulator can say): the check now goes to the Service over mutual TLS.
        await h.SimulateReadyDeploymentsAsync(Ns);
        var unreachable = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Stalled", "Unreachable"), "the check against the registry Service");
        Assert.Contains(Host, Condition(unreachable, "Stalled")!.Message, StringComparison.Ordinal);
        Assert.False(unreachable!.Status.Reachable);

        // The registry's objects belong to the target: deleting it deletes them, the claim included.
        await targets.DeleteAsync(Ns, "cache");
        await h.WaitAsync(
            async () => (await h.Deployments.GetAsync(Ns, "cache-registry"), await new ResourceClient<V1Service>(h.Kubernetes).GetAsync(Ns, "cache-registry"), await h.Claims.GetAsync(Ns, "cache-registry")),
            r => r.Item1 is null && r.Item2 is null && r.Item3 is null,
            "the owner cascade to remove the registry's Deployment, Service and claim");
    }

    [Fact]
    public async Task A_larger_maxBytes_grows_the_claim_and_a_smaller_one_never_shrinks_it()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        var targets = new ResourceClient<RegistryCacheTarget>(h.Kubernetes);
        await targets.CreateAsync(ManagedTarget(new CacheRetentionPolicy { MaxBytes = "10Gi" }));
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "cache-registry"), c => c is not null, "the registry claim");

        await targets.PatchAsync(Ns, "cache", new { spec = new { retention = new { maxBytes = "20Gi" } } });
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "cache-registry"), c => (long?)c?.Spec.Resources.Requests["storage"].ToDecimal() == 24L << 30, "the claim to grow to 24Gi");

        await targets.PatchAsync(Ns, "cache", new { spec = new { retention = new { maxBytes = "1Gi" } } });
        await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => t?.Status?.ObservedGeneration == t?.Metadata.Generation, "the target to see the smaller maxBytes");
        var claim = await h.Claims.GetAsync(Ns, "cache-registry");
        Assert.Equal(24L << 30, (long)claim!.Spec.Resources.Requests["storage"].ToDecimal());
    }

    [Fact]
    public async Task A_claim_of_the_same_name_that_is_not_the_targets_is_Stalled_ChildConflict()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        await h.Claims.CreateAsync(new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = "cache-registry", NamespaceProperty = Ns },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } },
            },
        });
        var targets = new ResourceClient<RegistryCacheTarget>(h.Kubernetes);
        await targets.CreateAsync(ManagedTarget());

        var stalled = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Stalled", "ChildConflict"), "the target to refuse a claim that is not its own");
        Assert.Contains("PersistentVolumeClaim default/cache-registry", Condition(stalled, "Stalled")!.Message, StringComparison.Ordinal);
        Assert.Null(await h.Deployments.GetAsync(Ns, "cache-registry"));
    }

    [Fact]
    public async Task Only_the_trusted_builders_of_pools_using_a_managed_registry_and_the_operator_can_reach_its_read_write_port_and_isolated_forks_only_its_read_only_one()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        var targets = new ResourceClient<RegistryCacheTarget>(h.Kubernetes);
        await targets.CreateAsync(ManagedTarget());
        BuilderPool Pool(string name, bool usesTarget) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 },
                Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" } },
                CacheTargets = usesTarget ? [new CacheTargetReference { Name = "cache" }] : null,
            },
        };
        await h.Pools.CreateAsync(Pool("ci", usesTarget: true));
        await h.Pools.CreateAsync(Pool("other", usesTarget: false));

        var policies = new ResourceClient<V1NetworkPolicy>(h.Kubernetes);
        var policy = await h.WaitAsync(() => policies.GetAsync(Ns, "cache-registry"),
            p => p?.Spec.Ingress.SelectMany(r => r.FromProperty).Any(f => f.PodSelector?.MatchExpressions?.Any(e => e.Values?.Contains("ci") == true) == true) == true,
            "the registry's NetworkPolicy to admit pool ci");
        Assert.Equal("cache", Assert.Single(policy!.Metadata.OwnerReferences).Name);
        var registryPod = (await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "cache-registry"), d => d is not null, "the registry Deployment"))!.Spec.Template.Metadata.Labels;
        Assert.True(NetworkPolicyCheck.Matches(policy!.Spec.PodSelector, registryPod), "the policy selects the registry's pods");

        IDictionary<string, string> PodOf(V1Deployment? d) => d!.Spec.Template.Metadata.Labels;
        var builder = PodOf(await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"), d => d is not null, "pool ci's builder"));
        var otherBuilder = PodOf(await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "other-0-builder"), d => d is not null, "pool other's builder"));
        var gateway = PodOf(await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-gateway"), d => d is not null, "pool ci's gateway"));
        var isolatedFork = new Dictionary<string, string>(builder) { [LifecycleAnnotations.IsolatedForLabel] = "b1c2d3e4f5" };
        var operatorPod = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "buildpool", ["app.kubernetes.io/component"] = "operator" };

        bool Admits(string ns, IDictionary<string, string> pod) => NetworkPolicyCheck.Admits(policy, Ns, ns, pod, ManagedRegistry.Port);
        Assert.True(Admits(Ns, builder), "a builder of a pool that lists the target");
        Assert.True(Admits(new OperatorOptions().OperatorNamespace, operatorPod), "the operator, for GC and checks");
        Assert.False(Admits(Ns, isolatedFork), "an untrusted build's isolated fork could overwrite the cache trusted builds import");
        Assert.False(Admits(Ns, otherBuilder), "a builder of a pool that does not list the target");
        Assert.False(Admits(Ns, gateway), "the gateway");
        Assert.False(Admits("team-b", builder), "a pod with builder labels in another namespace");
        Assert.False(Admits(Ns, new Dictionary<string, string> { ["app"] = "anything" }), "any other pod");

        bool AdmitsReadOnly(string ns, IDictionary<string, string> pod) => NetworkPolicyCheck.Admits(policy, Ns, ns, pod, ManagedRegistry.ReadOnlyPort);
        Assert.True(AdmitsReadOnly(Ns, isolatedFork), "an isolated fork imports from the read-only port");
        Assert.True(AdmitsReadOnly(Ns, builder), "a builder of a pool that lists the target");
        Assert.False(AdmitsReadOnly(Ns, otherBuilder), "a builder of a pool that does not list the target, on the read-only port");
        Assert.False(AdmitsReadOnly(Ns, gateway), "the gateway, on the read-only port");
        Assert.False(AdmitsReadOnly("team-b", isolatedFork), "a pod with fork labels in another namespace");
        Assert.False(AdmitsReadOnly(Ns, new Dictionary<string, string> { ["app"] = "anything" }), "any other pod, on the read-only port");
        Assert.False(NetworkPolicyCheck.Admits(policy, Ns, Ns, isolatedFork, 5002), "any other port");
    }

    [Fact]
    public void A_managed_registry_no_pool_uses_admits_only_the_operator_and_no_one_on_its_read_only_port()
    {
        var policy = ManagedRegistry.NetworkPolicy(ManagedTarget(), [], "buildpool-system");
        var rule = Assert.Single(policy.Spec.Ingress);
        Assert.Equal("5000", Assert.Single(rule.Ports).Port.Value);
        Assert.All(rule.FromProperty, p => Assert.NotNull(p.PodSelector));
    }

    [Fact]
    public async Task The_builders_of_a_pool_using_a_managed_registry_get_its_client_keypair_and_other_pools_do_not()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        await new ResourceClient<RegistryCacheTarget>(h.Kubernetes).CreateAsync(ManagedTarget());
        await h.Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 },
                Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" } },
                CacheTargets = [new CacheTargetReference { Name = "cache" }],
            },
        });
        await h.Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "other", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 },
                Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" } },
            },
        });

        static bool MountsClient(V1Deployment? d) => d?.Spec.Template.Spec.Volumes?.Any(v => v.Projected?.Sources?.Any(s => s.Secret?.Name == "cache-registry-client" && s.Secret.Items.Any(i => i.Key == "tls.key")) == true) == true;
        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"), MountsClient, "pool ci's builder to mount the registry's client keypair");
        var configs = new ResourceClient<V1ConfigMap>(h.Kubernetes);
        var config = await h.WaitAsync(() => configs.GetAsync(Ns, "ci-0-buildkitd"), c => c?.Data?.Values.Any(v => v.Contains("keypair", StringComparison.Ordinal)) == true, "pool ci's buildkitd.toml to name the keypair");
        var toml = Assert.Single(config!.Data.Values);
        Assert.Contains($"[[registry.\"{Host}\".keypair]]", toml, StringComparison.Ordinal);
        Assert.True(MountsClient(builder));
        var other = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "other-0-builder"), d => d is not null, "pool other's builder");
        Assert.False(MountsClient(other));
        Assert.DoesNotContain(other!.Spec.Template.Spec.Volumes ?? [], v => v.Projected?.Sources?.Any(s => s.Secret?.Name == "cache-registry-client") == true);
    }

    [Fact]
    public async Task The_registrys_certificates_are_renewed_with_the_pools_rule_and_a_new_ca_reissues_both_and_restarts_the_registry()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new OperatorOptions { RegistryGcInterval = TimeSpan.FromMinutes(1), ServerCertificateValidity = TimeSpan.FromHours(6), CaValidity = TimeSpan.FromHours(24) };
        await using var h = await OperatorHarness.StartAsync(options, time: clock);
        void Tick() => clock.Advance(TimeSpan.FromSeconds(5));
        await new ResourceClient<RegistryCacheTarget>(h.Kubernetes).CreateAsync(ManagedTarget());
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        async Task<(string Ca, string Server, string Client, string Digest)> ReadAsync()
        {
            var deployment = await h.Deployments.GetAsync(Ns, "cache-registry");
            var ca = await secrets.GetAsync(Ns, "cache-registry-ca");
            var server = await secrets.GetAsync(Ns, "cache-registry-tls");
            var client = await secrets.GetAsync(Ns, "cache-registry-client");
            return ca is null || server is null || client is null || deployment is null
                ? default
                : (Text(ca, "ca.crt"), Text(server, "tls.crt"), Text(client, "tls.crt"), deployment.Spec.Template.Metadata.Annotations[ManagedRegistry.TlsDigestAnnotation]);
        }

        var first = await h.WaitAsync(ReadAsync, r => r.Digest is not null, "the registry's certificates and Deployment");

        // Leaves (6h, plus the clock-skew allowance) are due after about 4h: both reissued by the same CA, and the registry restarts.
        clock.Advance(TimeSpan.FromHours(4.2));
        var renewed = await h.WaitAsync(() =>
        {
            Tick();
            return ReadAsync();
        }, r => r.Server != first.Server && r.Client != first.Client && r.Digest != first.Digest, "the leaves to be renewed and the registry to restart");
        Assert.Equal(first.Ca, renewed.Ca);

        // The CA (24h) is due after about 16h: a new CA, and both leaves chain to it.
        clock.Advance(TimeSpan.FromHours(12));
        var rotated = await h.WaitAsync(() =>
        {
            Tick();
            return ReadAsync();
        }, r => r.Ca != first.Ca && r.Digest != renewed.Digest, "a new registry CA");
        using var ca = X509Certificate2.CreateFromPem(rotated.Ca);
        foreach (var leaf in new[] { rotated.Server, rotated.Client })
        {
            using var certificate = X509Certificate2.CreateFromPem(leaf);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            // At the operator's time: the leaves start hours after the wall clock.
            chain.ChainPolicy.VerificationTime = clock.GetUtcNow().UtcDateTime;
            Assert.True(chain.Build(certificate), $"a leaf the new CA does not sign would be refused by the other side: {string.Join(", ", chain.ChainStatus.Select(c => c.StatusInformation))}");
        }

        var client = (await secrets.GetAsync(Ns, "cache-registry-client"))!;
        Assert.Equal(rotated.Ca, Text(client, "ca.crt"));
        Assert.Equal(rotated.Ca, Text((await secrets.GetAsync(Ns, "cache-registry-tls"))!, "ca.crt"));
    }
}
