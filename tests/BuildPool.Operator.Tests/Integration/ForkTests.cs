using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Forks;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// Private forks on the operator's side of docs/lifecycle.md: the test writes the gateway's
/// annotations (forks-wanted, isolate.buildpool.dev/…) and watches what the operator makes of them.
/// </summary>
public sealed class ForkTests
{
    private const string Ns = "default";

    private static BuilderPool Pool(string storageClass, int maxPerVolume = 2, int maxPerPool = 3, string idle = "10m") => new()
    {
        Metadata = new V1ObjectMeta { Name = "priv", NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Volumes = 2 },
            Scaling = new ScalingSpec { WarmBuilders = 0 },
            Cache = new CacheSpec
            {
                Sharing = CacheSharing.Private,
                Volume = new CacheVolumeTemplate { Size = "5Gi", StorageClassName = storageClass },
                Forks = new ForkPolicy { MaxPerVolume = maxPerVolume, MaxPerPool = maxPerPool, IdleTimeout = idle },
            },
        },
    };

    private static async Task<OperatorHarness> StartAsync(string storageClass, string provisioner)
    {
        var h = await OperatorHarness.StartAsync();
        await new ResourceClient<V1StorageClass>(h.Kubernetes).CreateAsync(new V1StorageClass
        {
            Metadata = new V1ObjectMeta { Name = storageClass },
            Provisioner = provisioner,
        });
        return h;
    }

    // What the gateway does for a volume: a signal on the pool's signal Lease, once the volume exists.
    private static async Task SignalAsync(OperatorHarness h, string volume, KeyValuePair<string, string?> signal)
    {
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, volume), v => v is not null, $"{volume} to exist");
        await h.SignalAsync(Ns, "priv", signal);
    }

    private static KeyValuePair<string, string?> WantForks(string volume, int count) =>
        Nullable(GatewaySignals.Forks(volume, count, DateTimeOffset.UtcNow));

    private static KeyValuePair<string, string?> Nullable(KeyValuePair<string, string> signal) => new(signal.Key, signal.Value);

    private static async Task<IReadOnlyList<CacheVolume>> ForksAsync(OperatorHarness h) =>
        (await h.Volumes.ListAsync(Ns)).Where(v => v.Metadata.Labels?.ContainsKey(LifecycleAnnotations.ForkOfLabel) == true).ToList();

    [Fact]
    public async Task Wanted_forks_are_created_as_clones_up_to_the_per_volume_and_then_the_per_pool_limit()
    {
        await using var h = await StartAsync("csi-fast", "fast.csi.example.com");
        await h.Pools.CreateAsync(Pool("csi-fast", maxPerVolume: 2, maxPerPool: 3));

        await SignalAsync(h, "priv-0", WantForks("priv-0", 5));
        var first = await h.WaitAsync(() => ForksAsync(h), f => f.Count == 2, "two forks of priv-0 (maxPerVolume)");
        await SignalAsync(h, "priv-1", WantForks("priv-1", 5));
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-1"), v => v?.Status.Forks == 1, "priv-1 to report its one fork");
        var forks = await ForksAsync(h);

        Assert.Equal(["priv-0-f0", "priv-0-f1"], first.Select(f => f.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["priv-0-f0", "priv-0-f1", "priv-1-f0"], forks.Select(f => f.Metadata.Name).Order(StringComparer.Ordinal));
        foreach (var fork in forks)
        {
            var baseName = fork.Metadata.Labels[LifecycleAnnotations.ForkOfLabel];
            Assert.Equal(("CacheVolume", baseName), (fork.Metadata.OwnerReferences.Single().Kind, fork.Metadata.OwnerReferences.Single().Name));
            Assert.Equal("priv", fork.Spec.Pool);
            var claim = await h.WaitAsync(() => h.Claims.GetAsync(Ns, $"{fork.Metadata.Name}-state"), c => c is not null, $"{fork.Metadata.Name}'s claim");
            Assert.Equal(("PersistentVolumeClaim", $"{baseName}-state"), (claim!.Spec.DataSource.Kind, claim.Spec.DataSource.Name));
            Assert.Equal("csi-fast", claim.Spec.StorageClassName);
            Assert.Equal("Delete", claim.Metadata.Labels["buildpool.dev/reclaim-policy"]);
        }

        var seeded = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-0-f0"), v => v?.Status.Conditions.Any(c => c.Type == ForkManager.SeededCondition) == true, "the fork's Seeded condition");
        Assert.Equal(("True", "ClonedFromBase"), seeded!.Status.Conditions.Where(c => c.Type == ForkManager.SeededCondition).Select(c => (c.Status, c.Reason)).Single());
        // The base volume counts its forks in a status write after creating them: wait for it.
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-0"), v => v?.Status.Forks == 2, "priv-0 to report its two forks");
    }

    [Fact]
    public async Task An_unused_fork_is_deleted_with_its_claim_after_the_fork_idle_timeout_and_the_base_stays()
    {
        await using var h = await StartAsync("csi-fast", "fast.csi.example.com");
        // Long enough for the fork's first reconcile to write its claim on a loaded machine: with
        // 2 s that reconcile could already find the fork idle and delete it before any claim existed.
        await h.Pools.CreateAsync(Pool("csi-fast", idle: "10s"));

        await SignalAsync(h, "priv-0", WantForks("priv-0", 1));
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "priv-0-f0-state"), c => c is not null, "the fork's claim");
        await h.WaitAsync(() => ForksAsync(h), f => f.Count == 0, "the idle fork to be deleted");
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "priv-0-f0-state"), c => c is null, "the fork's claim to be deleted");

        Assert.NotNull(await h.Volumes.GetAsync(Ns, "priv-0"));
        Assert.NotNull(await h.Claims.GetAsync(Ns, "priv-0-state"));
    }

    [Fact]
    public async Task A_fork_on_a_storage_class_that_cannot_clone_starts_empty_and_its_status_says_so()
    {
        await using var h = await StartAsync("local", "rancher.io/local-path");
        await h.Pools.CreateAsync(Pool("local"));

        await SignalAsync(h, "priv-0", WantForks("priv-0", 1));
        var fork = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-0-f0"), v => v?.Status.Conditions.Any(c => c.Type == ForkManager.SeededCondition) == true, "the fork's Seeded condition");
        var claim = await h.WaitAsync(() => h.Claims.GetAsync(Ns, "priv-0-f0-state"), c => c is not null, "the fork's claim");

        Assert.Null(claim!.Spec.DataSource);
        var seeded = fork!.Status.Conditions.Single(c => c.Type == ForkManager.SeededCondition);
        Assert.Equal(("False", "CloneUnsupported"), (seeded.Status, seeded.Reason));
        Assert.Contains("empty cache", seeded.Message, StringComparison.Ordinal);
        Assert.Contains(ForkManager.CloningAnnotation, seeded.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_isolated_fork_serves_one_untrusted_build_and_is_deleted_when_the_gateway_releases_it()
    {
        await using var h = await StartAsync("csi-fast", "fast.csi.example.com");
        await h.Pools.CreateAsync(Pool("csi-fast"));

        await SignalAsync(h, "priv-1", Nullable(GatewaySignals.Isolate("priv-1", "b1c2d3e4f5", DateTimeOffset.UtcNow)));
        var fork = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-1-ib1c2d3e4f5"), v => v is not null, "the isolated fork");
        Assert.Equal("b1c2d3e4f5", fork!.Metadata.Labels[LifecycleAnnotations.IsolatedForLabel]);
        Assert.Equal("priv-1", fork.Metadata.Labels[LifecycleAnnotations.ForkOfLabel]);

        await SignalAsync(h, "priv-1", new(GatewaySignals.IsolateName("priv-1", "b1c2d3e4f5"), null));

        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-1-ib1c2d3e4f5"), v => v is null, "the released fork to be deleted");
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "priv-1-ib1c2d3e4f5-state"), c => c is null, "its claim to be deleted");
    }

    [Fact]
    public async Task An_isolated_fork_gets_no_cache_backend_credentials_while_its_base_and_overflow_forks_keep_them()
    {
        await using var h = await StartAsync("csi-fast", "fast.csi.example.com");
        await new ResourceClient<V1Secret>(h.Kubernetes).CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "s3-creds", NamespaceProperty = Ns },
            StringData = new Dictionary<string, string> { ["AWS_SECRET_ACCESS_KEY"] = "trusted-only" },
        });
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        foreach (var (name, delivery) in new[] { ("s3-env", CredentialDelivery.Env), ("s3-files", CredentialDelivery.Files) })
        {
            await bindings.CreateAsync(new SecretBinding
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
                Spec = new SecretBindingSpec
                {
                    Kind = SecretBindingKind.CacheBackendCredentials,
                    Pool = "priv",
                    CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "s3-creds", Delivery = delivery },
                },
            });
        }

        await h.Pools.CreateAsync(Pool("csi-fast"));
        static bool HoldsCredentials(V1Deployment? d) =>
            d?.Spec.Template.Spec.Containers[0].EnvFrom?.Any(e => e.SecretRef?.Name == "s3-creds") == true
            || d?.Spec.Template.Spec.Volumes.Any(v => v.Secret?.SecretName == "s3-creds") == true;
        await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "priv-1-builder"), HoldsCredentials, "the base builder with its credentials");

        // An untrusted build's fork, and an overflow fork for trusted builds.
        await SignalAsync(h, "priv-1", WantForks("priv-1", 1));
        await SignalAsync(h, "priv-1", Nullable(GatewaySignals.Isolate("priv-1", "b1c2d3e4f5", DateTimeOffset.UtcNow)));

        var isolated = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "priv-1-ib1c2d3e4f5-builder"), d => d is not null, "the isolated fork's builder");
        var overflow = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "priv-1-f0-builder"), d => d is not null, "the overflow fork's builder");
        Assert.False(HoldsCredentials(isolated), "an untrusted build's builder must not hold the pool's cache-backend credentials");
        Assert.Null(isolated!.Spec.Template.Spec.Containers[0].EnvFrom);
        Assert.True(HoldsCredentials(overflow));
    }

    [Fact]
    public async Task An_isolated_fork_trusts_the_registry_cas_but_holds_no_registry_client_keypair()
    {
        await using var h = await StartAsync("csi-fast", "fast.csi.example.com");
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        foreach (var name in new[] { "mirror-ca", "mirror-client", "cache-ca", "cache-client" })
        {
            await secrets.CreateAsync(new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
                StringData = new Dictionary<string, string> { ["ca.crt"] = "ca", ["tls.crt"] = "cert", ["tls.key"] = "key" },
            });
        }

        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "cache-tls", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.RegistryTls,
                Pool = "priv",
                RegistryTls = new RegistryTlsBinding
                {
                    Registry = "cache.example.test",
                    CaSecretRef = new SecretKeyReference { Name = "cache-ca" },
                    ClientKeyPairSecretRef = new SecretReference { Name = "cache-client" },
                },
            },
        });
        // And a managed registry, whose client certificate the operator issues.
        await new ResourceClient<RegistryCacheTarget>(h.Kubernetes).CreateAsync(new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = "regcache", NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec { Ref = "cache/app:{key}", Managed = true },
        });
        var pool = Pool("csi-fast");
        pool.Spec.Builder.Registries =
        [
            new RegistrySettings { Host = "mirror.example.test", CaSecretRef = new SecretKeyReference { Name = "mirror-ca" }, ClientKeyPairSecretRef = new SecretReference { Name = "mirror-client" } },
        ];
        pool.Spec.CacheTargets = [new CacheTargetReference { Name = "regcache" }];
        await h.Pools.CreateAsync(pool);

        static IEnumerable<string> Mounted(V1Deployment d) => d.Spec.Template.Spec.Volumes.SelectMany(v =>
            (v.Projected?.Sources ?? []).Select(s => s.Secret?.Name).Append(v.Secret?.SecretName)).OfType<string>();
        // Keys mounted from each Secret: a client keypair is tls.key.
        static IEnumerable<string> Keys(V1Deployment d, string secret) => d.Spec.Template.Spec.Volumes
            .SelectMany(v => v.Projected?.Sources ?? []).Where(s => s.Secret?.Name == secret).SelectMany(s => s.Secret.Items.Select(i => i.Key));
        var shared = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "priv-1-builder"),
            d => d is not null && Mounted(d).Contains("cache-client") && Keys(d, "regcache-registry-client").Contains("tls.key"), "the base builder with the bound and the managed registry's keypairs");
        Assert.Contains("mirror-client", Mounted(shared!));
        Assert.Contains("keypair", (await new ResourceClient<V1ConfigMap>(h.Kubernetes).GetAsync(Ns, "priv-1-buildkitd"))!.Data["buildkitd.toml"], StringComparison.Ordinal);

        await SignalAsync(h, "priv-1", Nullable(GatewaySignals.Isolate("priv-1", "b1c2d3e4f5", DateTimeOffset.UtcNow)));

        var isolated = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "priv-1-ib1c2d3e4f5-builder"), d => d is not null, "the isolated fork's builder");
        var mounted = Mounted(isolated!).ToList();
        Assert.DoesNotContain("mirror-client", mounted);
        Assert.DoesNotContain("cache-client", mounted);
        Assert.Contains("mirror-ca", mounted);
        Assert.Contains("cache-ca", mounted);
        Assert.Equal(["ca.crt"], Keys(isolated!, "regcache-registry-client"));
        var toml = (await new ResourceClient<V1ConfigMap>(h.Kubernetes).GetAsync(Ns, "priv-1-ib1c2d3e4f5-buildkitd"))!.Data["buildkitd.toml"];
        Assert.DoesNotContain("keypair", toml, StringComparison.Ordinal);
        Assert.Contains("ca.crt", toml, StringComparison.Ordinal);
        // The managed registry's CA, for its read-only listener, where the fork imports.
        Assert.Contains("[registry.\"regcache-registry.default.svc:5001\"]", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("regcache-registry.default.svc:5000", toml, StringComparison.Ordinal);
    }
}
