using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class SecretReferenceTests
{
    private const string Ns = "default";

    [Fact]
    public async Task A_pool_naming_a_missing_registry_ca_secret_is_stalled_until_the_secret_exists()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "reg", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Builder = new BuilderSpec
                {
                    Registries = [new RegistrySettings { Host = "mirror.internal:5000", CaSecretRef = new SecretKeyReference { Name = "mirror-ca" } }],
                },
                Assignment = new AssignmentSpec { Volumes = 1 },
                Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "5Gi" } },
            },
        });

        var stalled = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "reg"),
            p => p?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True") == true, "the pool to be Stalled");
        var condition = stalled!.Status.Conditions.Single(c => c.Type == "Stalled");
        Assert.Equal("MissingReference", condition.Reason);
        Assert.Contains("spec.builder.registries[0].caSecretRef: Secret \"mirror-ca\" not found", condition.Message, StringComparison.Ordinal);
        Assert.Empty(await h.Volumes.ListAsync(Ns));

        await new ResourceClient<V1Secret>(h.Kubernetes).CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "mirror-ca", NamespaceProperty = Ns },
            StringData = new Dictionary<string, string> { ["ca.crt"] = "-----BEGIN CERTIFICATE-----" },
        });
        // Nudge the pool rather than wait for the 30 s recheck.
        await h.Pools.PatchAsync(Ns, "reg", new { metadata = new { labels = new Dictionary<string, string> { ["touched"] = "1" } } });

        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "reg-0-builder"), d => d is not null, "the builder Deployment");
        var pod = builder!.Spec.Template.Spec;
        var volume = Assert.Single(pod.Volumes, v => v.Projected is not null);
        Assert.Equal("mirror-ca", volume.Projected.Sources.Single().Secret.Name);
        Assert.Contains(pod.Containers[0].VolumeMounts, m => m.Name == volume.Name && m.MountPath == RegistryFiles.Directory("mirror.internal:5000"));
        var config = await new ResourceClient<V1ConfigMap>(h.Kubernetes).GetAsync(Ns, "reg-0-buildkitd");
        Assert.Contains(RegistryFiles.CaPath("mirror.internal:5000"), config!.Data["buildkitd.toml"], StringComparison.Ordinal);
    }
}
