using BuildPool.Api.V1Alpha1;
using BuildPool.Host.Commands;
using BuildPool.Operator;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;

namespace BuildPool.Host.Tests;

public sealed class RenderTests
{
    private static readonly string GoldenDirectory = Path.Combine(RepositoryPaths.Root, "tests", "BuildPool.Host.Tests", "Golden", "render");

    public static TheoryData<string> Samples() =>
        new(Directory.GetFiles(RepositoryPaths.Samples, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    private static Task<string> RenderSampleAsync(string sample)
    {
        // A CacheVolume alone names a pool; render it with the pool it belongs to.
        var inputs = new List<string> { Path.Combine(RepositoryPaths.Samples, sample) };
        if (sample == "buildpool_v1alpha1_cachevolume.yaml")
        {
            inputs.Add(Path.Combine(RepositoryPaths.Samples, "buildpool_v1alpha1_builderpool.yaml"));
        }

        return RenderCommand.RenderAsync(inputs, new OperatorOptions(), CancellationToken.None);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Render_output_for_each_sample_matches_its_golden_file(string sample)
    {
        var rendered = await RenderSampleAsync(sample);
        var golden = Path.Combine(GoldenDirectory, Path.ChangeExtension(sample, ".rendered.yaml"));
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(GoldenDirectory);
            await File.WriteAllTextAsync(golden, rendered);
        }

        Assert.True(File.Exists(golden), $"{golden} is missing: run UPDATE_GOLDEN=1 dotnet test tests/BuildPool.Host.Tests and review the diff");
        Assert.True((await File.ReadAllTextAsync(golden)) == rendered,
            $"render output for {sample} differs from {golden}: if the change is intended, run UPDATE_GOLDEN=1 dotnet test tests/BuildPool.Host.Tests and review the diff");
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Render_output_parses_as_kubernetes_objects_of_known_kinds(string sample)
    {
        var types = new Dictionary<string, Type>
        {
            ["buildpool.dev/v1alpha1/CacheVolume"] = typeof(CacheVolume),
            ["v1/ServiceAccount"] = typeof(V1ServiceAccount),
            ["v1/Service"] = typeof(V1Service),
            ["v1/ConfigMap"] = typeof(V1ConfigMap),
            ["v1/PersistentVolumeClaim"] = typeof(V1PersistentVolumeClaim),
            ["apps/v1/Deployment"] = typeof(V1Deployment),
            ["rbac.authorization.k8s.io/v1/Role"] = typeof(V1Role),
            ["rbac.authorization.k8s.io/v1/RoleBinding"] = typeof(V1RoleBinding),
            ["policy/v1/PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
            ["networking.k8s.io/v1/NetworkPolicy"] = typeof(V1NetworkPolicy),
            ["coordination.k8s.io/v1/Lease"] = typeof(V1Lease),
        };
        var objects = KubernetesYaml.LoadAllFromString(await RenderSampleAsync(sample), types);
        Assert.All(objects, o =>
        {
            var obj = Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o);
            Assert.True(types.ContainsKey($"{obj.ApiVersion}/{obj.Kind}"), $"{obj.ApiVersion}/{obj.Kind} is not a kind the operator creates");
            Assert.False(string.IsNullOrEmpty(obj.Metadata.Name));
            Assert.False(string.IsNullOrEmpty(obj.Metadata.NamespaceProperty));
        });
    }

    [Fact]
    public async Task Render_of_a_hashed_pool_lists_its_volumes_builders_gateway_and_the_signal_lease_the_gateway_patches()
    {
        var rendered = await RenderSampleAsync("buildpool_v1alpha1_builderpool.yaml");
        foreach (var name in new[] { "ci-0", "ci-3", "ci-0-builder", "ci-0-state", "ci-0-buildkitd", "ci-gateway", "ci-builders", "ci-signals" })
        {
            Assert.Contains($"  name: {name}\n", rendered, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Render_refuses_a_volume_whose_pool_is_not_among_the_inputs()
    {
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() =>
            RenderCommand.RenderAsync([Path.Combine(RepositoryPaths.Samples, "buildpool_v1alpha1_cachevolume.yaml")], new OperatorOptions(), CancellationToken.None));
        Assert.Contains("spec.pool", ex.Message, StringComparison.Ordinal);
    }
}
