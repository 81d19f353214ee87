using BuildPool.Api.V1Alpha1;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class FieldManagerTests
{
    private const string Ns = "default";

    [Fact]
    public async Task Everything_the_operator_writes_is_managed_by_buildpool_operator()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.CreateReadyPoolAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "owned", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec { Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 } },
        });

        var pool = (await h.Pools.GetAsync(Ns, "owned"))!;
        var volume = (await h.Volumes.ListAsync(Ns)).Single();
        var builder = (await h.Deployments.GetAsync(Ns, $"{volume.Metadata.Name}-builder"))!;

        Assert.Contains(pool.Metadata.ManagedFields, f => f.Manager == "buildpool-operator" && f.Subresource == "status");
        Assert.Contains(volume.Metadata.ManagedFields, f => f.Manager == "buildpool-operator" && f.Subresource is null);
        Assert.Contains(volume.Metadata.ManagedFields, f => f.Manager == "buildpool-operator" && f.Subresource == "status");
        Assert.Contains(builder.Metadata.ManagedFields, f => f.Manager == "buildpool-operator");
    }
}
