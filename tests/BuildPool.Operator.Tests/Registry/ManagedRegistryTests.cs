using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Registry;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;
using k8s.Models;

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
        Assert.Equal($"type=registry,ref={Host}/cache/app:{{key}},mode=max,registry.insecure=true", starting.Status.BuildxFlags!.CacheTo);
        Assert.Equal($"type=registry,ref={Host}/cache/app:{{key}},registry.insecure=true", starting.Status.BuildxFlags.CacheFrom);

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
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal(5000, port.Port);

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
        var container = Assert.Single(pod.Containers);
        Assert.Equal("registry:2", container.Image);
        Assert.Contains(container.Env, e => e.Name == "REGISTRY_STORAGE_DELETE_ENABLED" && e.Value == "true");
        Assert.Equal("/v2/", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("5000", container.ReadinessProbe.HttpGet.Port.Value);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal("registry:2", Assert.Single(pod.InitContainers).Image);
        Assert.Contains(pod.Volumes, v => v.PersistentVolumeClaim?.ClaimName == "cache-registry");

        // Ready (as far as the emulator can say): the check now goes to the Service over plain HTTP.
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
    public async Task Only_the_trusted_builders_of_pools_using_a_managed_registry_and_the_operator_can_reach_it()
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
    }
}
