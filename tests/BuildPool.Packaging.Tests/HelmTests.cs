using k8s.Models;

namespace BuildPool.Packaging.Tests;

/// <summary>What only the real Helm can check: lint, and rendering with Go templates and Sprig.</summary>
public sealed class HelmTests
{
    [HelmFact]
    public async Task Helm_lint_passes_in_strict_mode()
    {
        var result = await Helm.RunAsync("lint", "--strict", ChartPaths.Chart);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [HelmFact]
    public async Task The_default_render_reads_into_Kubernetes_models_and_binds_the_operators_service_account()
    {
        var objects = KubernetesModels.LoadAll(await TemplateAsync());

        var differences = objects.SelectMany(o => KubernetesModels.RoundTripDifferences(o).Select(d => $"{o}: {d}")).ToList();
        Assert.True(differences.Count == 0, "Fields the Kubernetes models do not keep:\n" + string.Join('\n', differences));
        var deployment = Assert.Single(objects.Select(o => o.Model).OfType<V1Deployment>());
        var account = deployment.Spec.Template.Spec.ServiceAccountName;
        Assert.Contains(objects.Select(o => o.Model).OfType<V1ServiceAccount>(), sa => sa.Metadata.Name == account && sa.Metadata.NamespaceProperty == "builds");
        var role = Assert.Single(objects.Select(o => o.Model).OfType<V1ClusterRole>());
        Assert.Contains(objects.Select(o => o.Model).OfType<V1ClusterRoleBinding>(), b =>
            b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == role.Metadata.Name && b.Subjects.Any(s => s.Name == account && s.NamespaceProperty == "builds"));
        Assert.Single(objects.Select(o => o.Model).OfType<V1Role>());
        Assert.Single(objects.Select(o => o.Model).OfType<V1RoleBinding>());
        Assert.Equal(["operator", "--leader-elect", "--metrics-address", "0.0.0.0:8080", "--gateway-image", "buildpool:0.1.0"], deployment.Spec.Template.Spec.Containers[0].Args);
        Assert.Equal(2, deployment.Spec.Replicas);
    }

    [HelmFact]
    public async Task Options_render_the_watch_namespace_the_gateway_image_and_a_service_monitor()
    {
        var yaml = await TemplateAsync("--set", "watchNamespace=ci", "--set", "gateway.image=gateway:1", "--set", "serviceMonitor.enabled=true", "--set", "image.tag=2.0.0");

        // ServiceMonitor has no KubernetesClient model; check the rest.
        var documents = YamlJson.LoadAll(yaml);
        Assert.Contains(documents, d => (string?)d!["kind"] == "ServiceMonitor");
        var objects = KubernetesModels.LoadAll(string.Join("\n---\n", documents.Where(d => (string?)d!["kind"] != "ServiceMonitor").Select(d => d!.ToJsonString())));
        var deployment = Assert.Single(objects.Select(o => o.Model).OfType<V1Deployment>());
        Assert.Equal("buildpool:2.0.0", deployment.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal(["operator", "--leader-elect", "--metrics-address", "0.0.0.0:8080", "--gateway-image", "gateway:1", "--watch-namespace", "ci"], deployment.Spec.Template.Spec.Containers[0].Args);
    }

    [HelmFact]
    public async Task Two_replicas_without_leader_election_fail_to_render()
    {
        var result = await Helm.RunAsync("template", "buildpool", ChartPaths.Chart, "--namespace", "builds", "--set", "leaderElection.enabled=false");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("leaderElection.enabled", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> TemplateAsync(params string[] options)
    {
        var result = await Helm.RunAsync(["template", "buildpool", ChartPaths.Chart, "--namespace", "builds", .. options]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
    }
}
