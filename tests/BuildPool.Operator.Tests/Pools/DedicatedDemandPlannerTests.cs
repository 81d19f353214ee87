using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Tests.Signals;
using k8s.Models;

namespace BuildPool.Operator.Tests.Pools;

public sealed class DedicatedDemandPlannerTests
{
    private static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private static BuilderPool Pool(int maxVolumes = 4, int? perTenant = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default", Uid = "pool-uid" },
        Spec = new BuilderPoolSpec { Assignment = new AssignmentSpec { Mode = AssignmentMode.Dedicated, MaxVolumes = maxVolumes, MaxVolumesPerTenant = perTenant } },
    };

    private static CacheVolume Volume(string key, string? tenant) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "ci-" + key,
            Annotations = tenant is null ? null : new Dictionary<string, string> { [DedicatedDemandPlanner.TenantAnnotation] = tenant },
        },
        Spec = new CacheVolumeSpec { Pool = "ci", Keys = [key] },
    };

    [Fact]
    public void An_invalid_key_is_dropped_with_why_and_the_valid_keys_still_get_volumes()
    {
        var demands = TestSignals.Demands(Now, null, new string('x', 254), "app");

        var plan = DedicatedDemandPlanner.Plan(Pool(), [], demands, Ttl, Now);

        Assert.Equal(["app"], plan.Keys.Select(k => k.Key));
        var dropped = Assert.Single(plan.Dropped);
        Assert.Contains("over the limit of 253", dropped.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_demand_no_build_repeated_within_the_ttl_is_dropped_and_a_fresh_one_is_served()
    {
        var demands = TestSignals.Demands(Now - Ttl, null, "old").Concat(TestSignals.Demands(Now - TimeSpan.FromSeconds(10), null, "fresh")).ToList();

        var plan = DedicatedDemandPlanner.Plan(Pool(), [], demands, Ttl, Now);

        Assert.Equal(["fresh"], plan.Keys.Select(k => k.Key));
        Assert.Equal("no build asked for it for 5m", Assert.Single(plan.Dropped).Why);
    }

    [Fact]
    public void A_key_that_has_its_volume_consumes_its_demand_however_old()
    {
        var plan = DedicatedDemandPlanner.Plan(Pool(), [Volume("app", null)], TestSignals.Demands(Now - TimeSpan.FromHours(1), null, "app"), Ttl, Now);

        Assert.Single(plan.Consumed);
        Assert.Empty(plan.Dropped);
    }

    [Fact]
    public void A_tenant_at_its_quota_waits_while_another_tenant_still_gets_a_volume()
    {
        var demands = TestSignals.Demands(Now, "ci/a", "a3").Concat(TestSignals.Demands(Now, "ci/b", "b1")).ToList();

        var plan = DedicatedDemandPlanner.Plan(Pool(maxVolumes: 10, perTenant: 2), [Volume("a1", "ci/a"), Volume("a2", "ci/a")], demands, Ttl, Now);

        Assert.Equal(["a1", "a2", "b1"], plan.Keys.Select(k => k.Key));
        Assert.Equal(("b1", "ci/b"), plan.Keys[2]);
        Assert.Equal(["ci/a"], plan.UnmetTenants);
        Assert.Equal("tenant ci/a holds spec.assignment.maxVolumesPerTenant (2)", Assert.Single(plan.Unmet));
    }
}
