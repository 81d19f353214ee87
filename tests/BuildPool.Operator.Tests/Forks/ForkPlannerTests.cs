using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Forks;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Tests.Signals;
using k8s.Models;

namespace BuildPool.Operator.Tests.Forks;

public sealed class ForkPlannerTests
{
    private static readonly DateTime Now = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    private static readonly BuilderPool Pool = new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "ci" },
        Spec = new BuilderPoolSpec { Cache = new CacheSpec { Sharing = CacheSharing.Private, Forks = new ForkPolicy { MaxPerVolume = 2, MaxPerPool = 3 } } },
    };

    private static readonly CacheVolume Base = new()
    {
        Metadata = new V1ObjectMeta { Name = "web-0", NamespaceProperty = "ci", Uid = "u-0" },
        Spec = new CacheVolumeSpec { Pool = "web" },
    };

    private static VolumeSignals Asked(params KeyValuePair<string, string>[] signals) => TestSignals.For("web-0", signals);

    private static KeyValuePair<string, string> Wanted(int count, TimeSpan ago) => GatewaySignals.Forks("web-0", count, Now - ago);

    private static ForkPlan Plan(VolumeSignals signals, params (string Name, string Base)[] forks) =>
        ForkPlanner.Plan(Base, signals, Pool, forks, TimeSpan.FromMinutes(30), ForkSeed.Cloned, Now);

    [Fact]
    public void A_fresh_request_gets_the_forks_it_asks_for_up_to_the_per_volume_limit()
    {
        var plan = Plan(Asked(Wanted(5, TimeSpan.FromMinutes(1))));

        Assert.Equal(["web-0-f0", "web-0-f1"], plan.Create.Select(f => f.Metadata.Name));
        Assert.All(plan.Create, f => Assert.Equal("web-0", f.Spec.CloneFrom));
    }

    [Fact]
    public void A_request_older_than_the_fork_idle_timeout_creates_nothing()
    {
        var plan = Plan(Asked(Wanted(2, TimeSpan.FromMinutes(31))));

        Assert.Empty(plan.Create);
        Assert.Null(plan.Refused);
    }

    [Fact]
    public void Forks_of_other_volumes_count_against_the_pool_limit()
    {
        var plan = Plan(Asked(Wanted(2, TimeSpan.Zero)), ("web-1-f0", "web-1"), ("web-1-f1", "web-1"));

        Assert.Equal(["web-0-f0"], plan.Create.Select(f => f.Metadata.Name));
        Assert.Contains("maxPerPool", plan.Refused, StringComparison.Ordinal);
    }

    [Fact]
    public void Isolated_forks_come_before_overflow_forks_and_a_fork_that_exists_is_not_made_twice()
    {
        var plan = Plan(
            Asked(Wanted(2, TimeSpan.Zero), GatewaySignals.Isolate("web-0", "aa11", Now)),
            ("web-0-f0", "web-0"));

        Assert.Equal(["web-0-iaa11"], plan.Create.Select(f => f.Metadata.Name));
        Assert.Equal("aa11", plan.Create[0].Metadata.Labels[LifecycleAnnotations.IsolatedForLabel]);
        Assert.Equal(1, plan.Existing);
    }

    [Fact]
    public void Without_cloning_the_fork_has_no_source_and_says_why()
    {
        var plan = ForkPlanner.Plan(Base, Asked(Wanted(1, TimeSpan.Zero)), Pool, [], TimeSpan.FromMinutes(30), new ForkSeed(false, "no CSI"), Now);

        var fork = Assert.Single(plan.Create);
        Assert.Null(fork.Spec.CloneFrom);
        Assert.Equal("no CSI", fork.Metadata.Annotations[ForkPlanner.EmptySeedAnnotation]);
    }

    [Theory]
    [InlineData("csi-x", "ebs.csi.aws.com", null, true)]
    [InlineData("local", "rancher.io/local-path", null, false)]
    [InlineData("local", "rancher.io/local-path", "true", true)]
    [InlineData("csi-x", "ebs.csi.aws.com", "false", false)]
    public void Cloning_follows_the_storage_class_annotation_then_the_provisioner_name(string name, string provisioner, string? annotation, bool clones)
    {
        var storageClass = new V1StorageClass
        {
            Metadata = new V1ObjectMeta { Name = name, Annotations = annotation is null ? null : new Dictionary<string, string> { [ForkManager.CloningAnnotation] = annotation } },
            Provisioner = provisioner,
        };

        Assert.Equal(clones, ForkManager.CanClone(storageClass).CanClone);
    }
}
