using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// The checkers the chaos tests rely on must see the failures they are meant to catch; otherwise a
/// green chaos run means nothing. Each test here makes one such failure by hand.
/// </summary>
public sealed class InvariantCheckerTests
{
    private const string Ns = "default";

    [Fact]
    public async Task Deleting_a_retain_claim_while_its_builder_runs_is_flagged_twice()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var safety = new DataSafetyChecker(h.Kubernetes);
        using var client = Instrumented(h, safety);
        await new ResourceClient<V1PersistentVolumeClaim>(client).CreateAsync(Claim("x-0", "Retain"));
        await new ResourceClient<V1Deployment>(client).CreateAsync(Builder("x-0", "x-0-builder", replicas: 1));
        await safety.ObserveClaimsAsync(Ns);

        await new ResourceClient<V1PersistentVolumeClaim>(client).DeleteAsync(Ns, "x-0-state");

        Assert.Contains(safety.Violations, v => v.Contains("reclaim policy is Retain", StringComparison.Ordinal));
        Assert.Contains(safety.Violations, v => v.Contains("while builder x-0-builder had 1 replicas", StringComparison.Ordinal));
        Assert.Contains(await safety.FinalCheckAsync(Ns), v => v.Contains("claim default/x-0-state of a Retain volume is gone", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deleting_a_delete_claim_after_its_builder_is_gone_is_not_flagged()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var safety = new DataSafetyChecker(h.Kubernetes);
        using var client = Instrumented(h, safety);
        await new ResourceClient<V1PersistentVolumeClaim>(client).CreateAsync(Claim("y-0", "Delete"));
        await safety.ObserveClaimsAsync(Ns);

        await new ResourceClient<V1PersistentVolumeClaim>(client).DeleteAsync(Ns, "y-0-state");

        Assert.Empty(await safety.FinalCheckAsync(Ns));
    }

    [Fact]
    public async Task A_second_running_builder_for_a_volume_and_a_recreated_claim_are_flagged()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var safety = new DataSafetyChecker(h.Kubernetes);
        using var client = Instrumented(h, safety);
        var deployments = new ResourceClient<V1Deployment>(client);
        await deployments.CreateAsync(Builder("z-0", "z-0-builder", replicas: 1));
        Assert.Empty(safety.Violations);
        await deployments.CreateAsync(Builder("z-0", "z-0-builder-copy", replicas: 2));
        Assert.Contains(safety.Violations, v => v.Contains("volume default/z-0 has 2 running builders", StringComparison.Ordinal));
        Assert.Contains(safety.Violations, v => v.Contains("builder default/z-0-builder-copy has 2 replicas", StringComparison.Ordinal));

        // A claim deleted and created again under its name is a new, empty cache.
        var claims = new ResourceClient<V1PersistentVolumeClaim>(h.Kubernetes);
        await claims.CreateAsync(Claim("w-0", "Delete"));
        await safety.ObserveClaimsAsync(Ns);
        await claims.DeleteAsync(Ns, "w-0-state");
        await claims.CreateAsync(Claim("w-0", "Delete"));
        await safety.ObserveClaimsAsync(Ns);
        Assert.Contains(safety.Violations, v => v.Contains("claim default/w-0-state was recreated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_shape_check_flags_a_lost_finalizer_an_orphan_and_an_extra_child()
    {
        await using var h = await OperatorHarness.StartAsync();
        var pool = new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "shape", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Volumes = 1 },
                Scaling = new ScalingSpec { WarmBuilders = 1 },
                Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" } },
            },
        };
        await h.Pools.CreateAsync(pool);
        await using (Kubelet.Start(h, Ns))
        {
            await Convergence.WaitAsync(h.Kubernetes, Ns, [pool]);
        }

        await h.StopOperatorAsync();
        await h.Volumes.PatchAsync(Ns, "shape-0", new { metadata = new { finalizers = Array.Empty<string>() } });
        // Created without an owner and given a missing one afterwards: an object created for an
        // owner that is already gone would be collected at once, and this test needs it to stay.
        await h.Deployments.CreateAsync(Builder("shape-9", "shape-9-builder", replicas: 0));
        await h.Deployments.PatchAsync(Ns, "shape-9-builder", new
        {
            metadata = new { ownerReferences = new[] { new V1OwnerReference { ApiVersion = "buildpool.dev/v1alpha1", Kind = "CacheVolume", Name = "shape-9", Uid = "00000000-0000-0000-0000-000000000000", Controller = true } } },
        });

        var problems = await ClusterShape.DiffAsync(h.Kubernetes, Ns, [pool], []);

        Assert.Contains(problems, p => p == "CacheVolume shape-0 lacks its finalizer buildpool.dev/cache-volume");
        Assert.Contains(problems, p => p == "unexpected Deployment: shape-9-builder");
        Assert.Contains(problems, p => p.StartsWith("Deployment shape-9-builder is an orphan: its owner CacheVolume shape-9", StringComparison.Ordinal));
    }

    private static Kubernetes Instrumented(OperatorHarness h, DataSafetyChecker safety) =>
        new(new KubernetesClientConfiguration { Host = h.Server.BaseAddress.ToString().TrimEnd('/') }, new InstrumentedHandler("test", new ApiLog(), new KillSwitch(), safety));

    private static V1PersistentVolumeClaim Claim(string volume, string policy) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = ResourceNames.StateClaim(volume),
            NamespaceProperty = Ns,
            Labels = new Dictionary<string, string>
            {
                [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
                [WellKnown.VolumeLabel] = volume,
                [BuilderChildrenPlanner.ReclaimPolicyLabel] = policy,
            },
        },
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } },
        },
    };

    private static V1Deployment Builder(string volume, string name, int replicas)
    {
        var labels = new Dictionary<string, string>
        {
            [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
            [WellKnown.ComponentLabel] = WellKnown.BuilderComponent,
            [WellKnown.VolumeLabel] = volume,
        };
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns, Labels = labels },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "buildkitd", Image = "moby/buildkit" }] },
                },
            },
        };
    }
}
