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

    private static async Task AnnotateAsync(OperatorHarness h, string volume, Dictionary<string, string?> annotations)
    {
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, volume), v => v is not null, $"{volume} to exist");
        await h.Volumes.PatchAsync(Ns, volume, new { metadata = new { annotations } });
    }

    private static Dictionary<string, string?> WantForks(int count) => new()
    {
        [LifecycleAnnotations.ForksWanted] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [LifecycleAnnotations.ForksWantedAt] = LifecycleAnnotations.Timestamp(DateTimeOffset.UtcNow),
    };

    private static async Task<IReadOnlyList<CacheVolume>> ForksAsync(OperatorHarness h) =>
        (await h.Volumes.ListAsync(Ns)).Where(v => v.Metadata.Labels?.ContainsKey(LifecycleAnnotations.ForkOfLabel) == true).ToList();

    [Fact]
    public async Task Wanted_forks_are_created_as_clones_up_to_the_per_volume_and_then_the_per_pool_limit()
    {
        await using var h = await StartAsync("csi-fast", "fast.csi.example.com");
        await h.Pools.CreateAsync(Pool("csi-fast", maxPerVolume: 2, maxPerPool: 3));

        await AnnotateAsync(h, "priv-0", WantForks(5));
        var first = await h.WaitAsync(() => ForksAsync(h), f => f.Count == 2, "two forks of priv-0 (maxPerVolume)");
        await AnnotateAsync(h, "priv-1", WantForks(5));
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

        await AnnotateAsync(h, "priv-0", WantForks(1));
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

        await AnnotateAsync(h, "priv-0", WantForks(1));
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

        await AnnotateAsync(h, "priv-1", new() { [LifecycleAnnotations.Isolate("b1c2d3e4f5")] = LifecycleAnnotations.Timestamp(DateTimeOffset.UtcNow) });
        var fork = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-1-ib1c2d3e4f5"), v => v is not null, "the isolated fork");
        Assert.Equal("b1c2d3e4f5", fork!.Metadata.Labels[LifecycleAnnotations.IsolatedForLabel]);
        Assert.Equal("priv-1", fork.Metadata.Labels[LifecycleAnnotations.ForkOfLabel]);

        await AnnotateAsync(h, "priv-1", new() { [LifecycleAnnotations.Isolate("b1c2d3e4f5")] = null });

        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "priv-1-ib1c2d3e4f5"), v => v is null, "the released fork to be deleted");
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "priv-1-ib1c2d3e4f5-state"), c => c is null, "its claim to be deleted");
    }
}
