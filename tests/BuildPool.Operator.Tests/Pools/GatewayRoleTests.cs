using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Pools;
using k8s.Models;

namespace BuildPool.Operator.Tests.Pools;

/// <summary>
/// The gateway's Role as the API server would evaluate it (the local API does not enforce RBAC):
/// what a stolen gateway token could do in the pool's namespace.
/// </summary>
public sealed class GatewayRoleTests
{
    private static readonly V1Role Role = BuilderPoolPlanner.Plan(
        new BuilderPool { Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "ci", Uid = "pool-uid" }, Spec = new BuilderPoolSpec() },
        new OperatorOptions()).GatewayRole;

    // RBAC: a request is allowed when any rule names its group, resource and verb (or "*"), and
    // either lists no resource names or lists this one.
    private static bool Allows(string group, string resource, string verb, string? name) =>
        Role.Rules.Any(r =>
            (r.ApiGroups.Contains(group) || r.ApiGroups.Contains("*"))
            && (r.Resources.Contains(resource) || r.Resources.Contains("*"))
            && (r.Verbs.Contains(verb) || r.Verbs.Contains("*"))
            && (r.ResourceNames is null || r.ResourceNames.Count == 0 || (name is not null && r.ResourceNames.Contains(name))));

    [Theory]
    [InlineData("patch")]
    [InlineData("update")]
    [InlineData("create")]
    [InlineData("delete")]
    public void The_gateway_cannot_write_its_pool_spec_for_example_to_privileged(string verb) =>
        Assert.False(Allows(GroupVersion.Group, "builderpools", verb, "web"));

    [Theory]
    [InlineData("patch")]
    [InlineData("update")]
    [InlineData("create")]
    [InlineData("delete")]
    public void The_gateway_cannot_write_any_cache_volume_so_it_cannot_label_one_a_fork(string verb) =>
        Assert.False(Allows(GroupVersion.Group, "cachevolumes", verb, "web-0"));

    [Fact]
    public void The_gateway_may_patch_its_own_signal_lease_and_no_other()
    {
        Assert.True(Allows("coordination.k8s.io", "leases", "patch", GatewaySignals.LeaseName("web")));
        Assert.False(Allows("coordination.k8s.io", "leases", "patch", "other-app-leader"));
        Assert.False(Allows("coordination.k8s.io", "leases", "create", null));
        Assert.False(Allows("coordination.k8s.io", "leases", "delete", GatewaySignals.LeaseName("web")));
    }

    [Fact]
    public void The_gateway_still_reads_what_routing_needs()
    {
        Assert.True(Allows(GroupVersion.Group, "cachevolumes", "watch", null));
        Assert.True(Allows(GroupVersion.Group, "builderpools", "get", "web"));
        Assert.True(Allows(GroupVersion.Group, "secretbindings", "list", null));
    }
}
