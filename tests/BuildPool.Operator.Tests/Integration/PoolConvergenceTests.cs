using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class PoolConvergenceTests
{
    private const string Ns = "default";

    private static BuilderPool Pool(string name, int volumes = 2, int warm = 1, ReclaimPolicy reclaim = ReclaimPolicy.Retain) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = volumes },
            Scaling = new ScalingSpec { WarmBuilders = warm },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" }, ReclaimPolicy = reclaim },
        },
    };

    [Fact]
    public async Task A_hashed_pool_converges_to_volumes_builders_gateway_and_a_ready_status()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("ci"));

        var volumes = await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 2, "two cache volumes");
        Assert.All(volumes, v => Assert.Equal("ci", v.Spec.Pool));
        Assert.All(volumes, v => Assert.Equal("BuilderPool", Assert.Single(v.Metadata.OwnerReferences).Kind));

        // Children of each volume, and of the pool.
        await h.WaitAsync(() => h.Deployments.ListAsync(Ns), d => d.Count == 3, "two builder deployments and the gateway");
        await h.WaitAsync(() => h.Claims.ListAsync(Ns), c => c.Count == 2, "two state claims");
        var services = new ResourceClient<V1Service>(h.Kubernetes);
        await h.WaitAsync(() => services.ListAsync(Ns), s => s.Count == 3, "pool service and two builder services");
        // The pool's children are applied one after the other: the services being there says
        // nothing about the policy and budget written after them, so wait for each.
        await h.WaitAsync(() => new ResourceClient<V1NetworkPolicy>(h.Kubernetes).GetAsync(Ns, "ci-builders"), p => p is not null, "the builders' network policy");
        await h.WaitAsync(() => new ResourceClient<V1PodDisruptionBudget>(h.Kubernetes).GetAsync(Ns, "ci-builders"), b => b is not null, "the builders' disruption budget");
        await h.WaitAsync(() => new ResourceClient<V1ConfigMap>(h.Kubernetes).GetAsync(Ns, "ci-0-buildkitd"), c => c is not null, "the first builder's buildkitd.toml");

        // One warm builder runs; the other stays at zero replicas until a build asks for it.
        var builders = (await h.Deployments.ListAsync(Ns)).Where(d => d.Metadata.Name.EndsWith("-builder", StringComparison.Ordinal)).OrderBy(d => d.Metadata.Name).ToList();
        Assert.Equal([1, 0], builders.Select(d => d.Spec.Replicas ?? -1));
        Assert.Equal("Recreate", builders[0].Spec.Strategy.Type);

        // The pool's status is written after all of its children: the policy being there does not
        // mean the status is, so wait for a Ready condition before judging it.
        var pool = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "ci"), p => p?.Status.Conditions.Any(c => c.Type == "Ready") == true, "the pool's first status");
        Assert.Equal("False", pool!.Status.Conditions.Single(c => c.Type == "Ready").Status);

        // The kubelet's part: pods become ready. The daemon answers ListWorkers for the operator.
        await h.WaitForReadyPoolAsync(Ns, "ci");

        pool = await h.Pools.GetAsync(Ns, "ci");
        Assert.Equal(pool!.Metadata.Generation, pool.Status.ObservedGeneration);
        Assert.Equal("tcp://ci.default.svc:1234", pool.Status.Endpoint);
        Assert.Contains("docker buildx create", pool.Status.BuildxCommand, StringComparison.Ordinal);
        Assert.Equal(1, pool.Status.ReadyBuilders);
        Assert.Equal(2, pool.Status.Volumes);
        var ready = await h.Volumes.GetAsync(Ns, "ci-0");
        Assert.Equal(CacheVolumePhase.Ready, ready!.Status.Phase);
        // The pool's Ready needs only the warm builder: the cold volume writes its own status
        // after its Deployment, on a reconcile of its own, so wait for it to settle on Idle.
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "ci-1"), v => v?.Status.Phase == CacheVolumePhase.Idle, "the cold volume to be Idle");
    }

    [Fact]
    public async Task An_invalid_pool_is_stalled_with_the_field_named_and_creates_nothing()
    {
        await using var h = await OperatorHarness.StartAsync();
        // GC allowed more than the volume holds: only the operator can see it (warm builders over
        // volumes, which this test used before, is now refused at apply time by the CRD's rule).
        var pool = Pool("bad", volumes: 2);
        pool.Spec.Cache.Gc = new GcPolicy { MaxUsedSpace = "20Gi" };
        await h.Pools.CreateAsync(pool);

        var stalled = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "bad"),
            p => p?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True") == true, "the pool to be Stalled");
        var condition = stalled!.Status.Conditions.Single(c => c.Type == "Stalled");
        Assert.Equal("InvalidSpec", condition.Reason);
        Assert.Contains("spec.cache.gc.maxUsedSpace", condition.Message, StringComparison.Ordinal);
        Assert.Empty(await h.Volumes.ListAsync(Ns));
        Assert.Empty(await h.Deployments.ListAsync(Ns));
    }

    [Fact]
    public async Task After_convergence_a_restarted_operator_makes_no_writes()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("ci", volumes: 2, warm: 2));
        await h.WaitForReadyPoolAsync(Ns, "ci");

        await h.StopOperatorAsync();
        var writesBefore = h.Server.Stats.TotalWrites;
        var pool = await h.Pools.GetAsync(Ns, "ci");
        var probesBefore = h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers");
        h.StartOperator();
        // The new operator has listed everything and reconciled both ready volumes when it probes them again.
        await h.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count(c => c == "ListWorkers")), n => n >= probesBefore + 4, "both builders to be probed twice");
        Assert.Equal(writesBefore, h.Server.Stats.TotalWrites);
        Assert.Equal(pool!.Metadata.ResourceVersion, (await h.Pools.GetAsync(Ns, "ci"))!.Metadata.ResourceVersion);
    }
}
