using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class LifecycleTests
{
    private const string Ns = "default";

    private static BuilderPool Pool(string name, int volumes, int warm, ReclaimPolicy reclaim = ReclaimPolicy.Retain) => new()
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
    public async Task An_image_change_waits_for_the_running_build_then_rolls_builders_one_at_a_time()
    {
        await using var h = await OperatorHarness.StartAsync();
        var pool = await h.CreateReadyPoolAsync(Pool("ci", volumes: 2, warm: 2));
        var oldHashes = (await h.Deployments.ListAsync(Ns)).Where(d => d.Metadata.Name.EndsWith("-builder", StringComparison.Ordinal))
            .ToDictionary(d => d.Metadata.Name, d => d.Spec.Template.Metadata.Annotations[BuilderChildrenPlanner.PodTemplateHashAnnotation]);

        // Every builder shares the one test-double daemon, so both report the running build.
        h.Daemon.Daemon.ActiveBuilds["build-1"] = DateTimeOffset.UtcNow;
        pool.Spec.Builder.Image = "moby/buildkit:v0.18.0-rootless";
        await h.Pools.ReplaceAsync(pool);

        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count(x => x.Status.Phase == CacheVolumePhase.Draining) == 1,
            "exactly one volume to drain");
        // While the build runs, no builder Deployment changes its pod template, and never two drain at once.
        for (var i = 0; i < 5; i++)
        {
            // A new call to the daemon is a new drain poll: each round looks again after the operator did.
            var calls = h.Daemon.Daemon.Calls.Count;
            await h.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count), n => n > calls, "a probe");
            var volumes = await h.Volumes.ListAsync(Ns);
            Assert.True(volumes.Count(v => v.Status.Phase == CacheVolumePhase.Draining) <= 1);
            var deployments = await h.Deployments.ListAsync(Ns);
            Assert.All(deployments.Where(d => oldHashes.ContainsKey(d.Metadata.Name)),
                d => Assert.Equal(oldHashes[d.Metadata.Name], d.Spec.Template.Metadata.Annotations[BuilderChildrenPlanner.PodTemplateHashAnnotation]));
        }

        h.Daemon.Daemon.ActiveBuilds.Clear();
        await h.WaitAsync(async () =>
        {
            await h.SimulateReadyDeploymentsAsync(Ns);
            return await h.Deployments.ListAsync(Ns);
        }, d => d.Where(x => oldHashes.ContainsKey(x.Metadata.Name))
                 .All(x => x.Spec.Template.Spec.Containers[0].Image == "moby/buildkit:v0.18.0-rootless"), "both builders to run the new image");
    }

    [Fact]
    public async Task A_rollout_goes_on_with_the_same_builder_under_a_new_operator_and_the_pool_forgets_the_turn_when_it_is_done()
    {
        await using var h = await OperatorHarness.StartAsync();
        var pool = await h.CreateReadyPoolAsync(Pool("ci", volumes: 2, warm: 2));
        h.Daemon.Daemon.ActiveBuilds["build-1"] = DateTimeOffset.UtcNow;
        pool = (await h.Pools.GetAsync(Ns, "ci"))!;
        pool.Spec.Builder.Image = "moby/buildkit:v0.18.0-rootless";
        await h.Pools.ReplaceAsync(pool);

        var volumes = await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count(x => x.Status.Phase == CacheVolumePhase.Draining) == 1, "one builder to drain");
        var rolling = volumes.Single(v => v.Status.Phase == CacheVolumePhase.Draining).Metadata.Name;
        Assert.Equal(rolling, (await h.Pools.GetAsync(Ns, "ci"))!.Metadata.Annotations?[RolloutTurn.Annotation]);

        // A new leader starts with nothing in memory: the turn it finds on the pool decides.
        await h.StopOperatorAsync();
        h.StartOperator();
        for (var i = 0; i < 3; i++)
        {
            var calls = h.Daemon.Daemon.Calls.Count;
            await h.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count), n => n > calls, "the new operator to ask the daemon");
            var now = await h.Volumes.ListAsync(Ns);
            Assert.Equal([rolling], now.Where(v => v.Status.Phase == CacheVolumePhase.Draining).Select(v => v.Metadata.Name));
        }

        h.Daemon.Daemon.ActiveBuilds.Clear();
        await h.WaitAsync(async () =>
        {
            await h.SimulateReadyDeploymentsAsync(Ns);
            var builders = (await h.Deployments.ListAsync(Ns)).Where(d => d.Metadata.Name.EndsWith("-builder", StringComparison.Ordinal));
            var turn = (await h.Pools.GetAsync(Ns, "ci"))!.Metadata.Annotations?.ContainsKey(RolloutTurn.Annotation) == true;
            return !turn && builders.All(d => d.Spec.Template.Spec.Containers[0].Image == "moby/buildkit:v0.18.0-rootless");
        }, done => done, "both builders to run the new image and the turn to be handed back");
    }

    [Fact]
    public async Task Deleting_a_retain_pool_keeps_its_claims_and_a_delete_pool_removes_them_after_the_builders()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.CreateReadyPoolAsync(Pool("keep", volumes: 1, warm: 1, reclaim: ReclaimPolicy.Retain));
        await h.CreateReadyPoolAsync(Pool("drop", volumes: 1, warm: 1, reclaim: ReclaimPolicy.Delete));
        Assert.NotNull(await h.Claims.GetAsync(Ns, "keep-0-state"));
        Assert.NotNull(await h.Claims.GetAsync(Ns, "drop-0-state"));

        await h.Pools.DeleteAsync(Ns, "keep");
        await h.Pools.DeleteAsync(Ns, "drop");

        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 0, "both cache volumes to be finalized");
        await h.WaitAsync(() => h.Claims.GetAsync(Ns, "drop-0-state"), c => c is null, "the Delete pool's claim to go");
        Assert.Null(await h.Deployments.GetAsync(Ns, "drop-0-builder"));
        var kept = await h.Claims.GetAsync(Ns, "keep-0-state");
        Assert.NotNull(kept);
        Assert.True(kept!.Metadata.Annotations?.ContainsKey(WellKnown.RetainedAnnotation));

        // A pool of the same name finds its old cache again.
        await h.CreateReadyPoolAsync(Pool("keep", volumes: 1, warm: 1));
        var reused = await h.Claims.GetAsync(Ns, "keep-0-state");
        Assert.Equal(kept.Metadata.Uid, reused!.Metadata.Uid);
        Assert.False(reused.Metadata.Annotations?.ContainsKey(WellKnown.RetainedAnnotation) ?? false);
    }

    [Fact]
    public async Task Deleting_a_volume_with_a_running_build_waits_in_draining_until_the_build_ends()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.CreateReadyPoolAsync(Pool("ci", volumes: 1, warm: 1));
        h.Daemon.Daemon.ActiveBuilds["build-1"] = DateTimeOffset.UtcNow;

        await h.Pools.DeleteAsync(Ns, "ci");
        var draining = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "ci-0"), v => v?.Status.Phase == CacheVolumePhase.Draining, "the volume to drain");
        Assert.NotNull(draining!.Metadata.DeletionTimestamp);
        Assert.NotNull(await h.Deployments.GetAsync(Ns, "ci-0-builder"));

        h.Daemon.Daemon.ActiveBuilds.Clear();
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "ci-0"), v => v is null, "the volume to be finalized");
        Assert.Null(await h.Deployments.GetAsync(Ns, "ci-0-builder"));
    }

    [Fact]
    public async Task A_volume_for_a_missing_pool_is_stalled_naming_spec_pool()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Volumes.CreateAsync(new CacheVolume
        {
            Metadata = new V1ObjectMeta { Name = "orphan", NamespaceProperty = Ns },
            Spec = new CacheVolumeSpec { Pool = "nowhere" },
        });
        var stalled = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "orphan"),
            v => v?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True") == true, "the volume to be Stalled");
        Assert.StartsWith("spec.pool:", stalled!.Status.Conditions.Single(c => c.Type == "Stalled").Message, StringComparison.Ordinal);
        Assert.Empty(await h.Deployments.ListAsync(Ns));
    }
}
