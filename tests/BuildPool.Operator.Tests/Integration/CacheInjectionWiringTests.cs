using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class CacheInjectionWiringTests
{
    private const string Ns = "default";

    [Fact]
    public async Task A_pool_that_opts_into_a_cache_target_runs_its_gateway_with_that_targets_flags()
    {
        await using var h = await OperatorHarness.StartAsync();
        await new ResourceClient<RegistryCacheTarget>(h.Kubernetes).CreateAsync(new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = "shared", NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec { Ref = "127.0.0.1:9/cache/{key}", ImageManifest = true },
        });
        await h.Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "inj", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Volumes = 1 },
                CacheTargets = [new CacheTargetReference { Name = "shared", Inject = true }],
            },
        });

        var gateway = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "inj-gateway"),
            d => d?.Spec.Template.Spec.Containers[0].Args.Contains("--inject-cache-ref") == true, "the gateway to get the injection flags");
        var args = gateway!.Spec.Template.Spec.Containers[0].Args;
        Assert.Equal("127.0.0.1:9/cache/{key}", args[args.IndexOf("--inject-cache-ref") + 1]);
        Assert.Contains("image-manifest=true", args);
        // Not a managed registry: isolated builds import the same ref (the gateway never exports theirs).
        Assert.DoesNotContain("--inject-cache-ref-untrusted", args);
    }

    [Fact]
    public async Task A_pool_that_opts_into_a_managed_registry_has_its_isolated_builds_import_from_the_read_only_listener()
    {
        await using var h = await OperatorHarness.StartAsync();
        await new ResourceClient<RegistryCacheTarget>(h.Kubernetes).CreateAsync(new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = "cache", NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec { Ref = "cache/app:{key}", Managed = true },
        });
        await h.Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "inj", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Volumes = 1 },
                CacheTargets = [new CacheTargetReference { Name = "cache", Inject = true }],
            },
        });

        var gateway = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "inj-gateway"),
            d => d?.Spec.Template.Spec.Containers[0].Args.Contains("--inject-cache-ref-untrusted") == true, "the gateway to get the read-only ref for isolated builds");
        var args = gateway!.Spec.Template.Spec.Containers[0].Args;
        Assert.Equal("cache-registry.default.svc:5000/cache/app:{key}", args[args.IndexOf("--inject-cache-ref") + 1]);
        Assert.Equal("cache-registry.default.svc:5001/cache/app:{key}", args[args.IndexOf("--inject-cache-ref-untrusted") + 1]);
    }
}
