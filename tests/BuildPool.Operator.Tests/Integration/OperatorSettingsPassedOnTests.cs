using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>What the operator's own flags give the pods it creates.</summary>
public sealed class OperatorSettingsPassedOnTests
{
    private const string Ns = "default";

    [Fact]
    public async Task Image_pull_secrets_reach_the_gateway_builder_and_managed_registry_pods_and_log_flags_reach_the_gateways()
    {
        var options = new OperatorOptions
        {
            ImagePullSecrets = ["mirror-login", "second-login"],
            GatewayLogArgs = ["--log-format", "json", "--log-level", "debug"],
        };
        await using var h = await OperatorHarness.StartAsync(options);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Disabled));
        await new ResourceClient<RegistryCacheTarget>(h.Kubernetes).CreateAsync(new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = "cache", NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec { Ref = "cache/app:{key}", Managed = true },
        });

        foreach (var name in new[] { "ci-gateway", "ci-0-builder", "cache-registry" })
        {
            var deployment = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, name), d => d is not null, $"Deployment {name}");
            Assert.Equal(["mirror-login", "second-login"], deployment!.Spec.Template.Spec.ImagePullSecrets?.Select(s => s.Name) ?? []);
        }

        var gateway = Assert.Single((await h.Deployments.GetAsync(Ns, "ci-gateway"))!.Spec.Template.Spec.Containers);
        var args = gateway.Args.ToList();
        Assert.Equal("json", args[args.IndexOf("--log-format") + 1]);
        Assert.Equal("debug", args[args.IndexOf("--log-level") + 1]);
    }

    [Fact]
    public void Without_settings_the_pods_name_no_pull_secrets_and_the_gateway_gets_no_log_flags()
    {
        var pool = PoolTlsTests.Pool("ci", TlsMode.Disabled);
        pool.Metadata.NamespaceProperty = Ns;
        var plan = BuildPool.Operator.Pools.BuilderPoolPlanner.Plan(pool, new OperatorOptions());

        Assert.Null(plan.Gateway.Spec.Template.Spec.ImagePullSecrets);
        Assert.DoesNotContain("--log-format", plan.Gateway.Spec.Template.Spec.Containers[0].Args);
    }
}
