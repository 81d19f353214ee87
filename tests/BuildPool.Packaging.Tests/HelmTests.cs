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
        Assert.Equal(["operator", "--leader-elect", "--metrics-address", "0.0.0.0:8080", "--gateway-image", "buildpool:0.1.0", "--log-format", "text", "--log-level", "info"], deployment.Spec.Template.Spec.Containers[0].Args);
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
        Assert.Equal(["operator", "--leader-elect", "--metrics-address", "0.0.0.0:8080", "--gateway-image", "gateway:1", "--watch-namespace", "ci", "--log-format", "text", "--log-level", "info"], deployment.Spec.Template.Spec.Containers[0].Args);
    }

    [HelmFact]
    public async Task Two_replicas_without_leader_election_fail_to_render()
    {
        var result = await Helm.RunAsync("template", "buildpool", ChartPaths.Chart, "--namespace", "builds", "--set", "leaderElection.enabled=false");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("leaderElection.enabled", result.Stderr, StringComparison.Ordinal);
    }

    [HelmFact]
    public async Task The_monitoring_renders_when_enabled_with_the_rules_of_config_prometheus_and_the_dashboard_as_json()
    {
        var documents = YamlJson.LoadAll(await TemplateAsync(
            "--set", "podMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "grafanaDashboard.enabled=true",
            "--set", "imagePullSecrets[0].name=mirror-login", "--set", "logging.format=json"));

        var kinds = documents.Select(d => (string?)d!["kind"]).ToList();
        Assert.Contains("PodMonitor", kinds);
        Assert.Contains("PodDisruptionBudget", kinds);
        var rule = documents.Single(d => (string?)d!["kind"] == "PrometheusRule")!;
        var config = YamlJson.Load(File.ReadAllText(Path.Combine(ChartPaths.Config, "prometheus", "alerts.yaml")))!;
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(config["spec"], rule["spec"]), "the chart's PrometheusRule differs from config/prometheus/alerts.yaml");
        var dashboard = documents.Single(d => (string?)d!["kind"] == "ConfigMap" && d["metadata"]!["labels"]?["grafana_dashboard"] is not null)!;
        using var json = System.Text.Json.JsonDocument.Parse((string)dashboard["data"]!["buildpool-dashboard.json"]!);
        Assert.Equal("buildpool", json.RootElement.GetProperty("uid").GetString());

        var deployment = KubernetesModels.LoadAll(documents.Single(d => (string?)d!["kind"] == "Deployment")!.ToJsonString()).Select(o => o.Model).OfType<V1Deployment>().Single();
        var args = deployment.Spec.Template.Spec.Containers[0].Args;
        Assert.Equal("mirror-login", args[args.IndexOf("--image-pull-secret") + 1]);
        Assert.Equal("json", args[args.IndexOf("--log-format") + 1]);
        Assert.Equal("mirror-login", Assert.Single(deployment.Spec.Template.Spec.ImagePullSecrets).Name);
    }

    [HelmFact]
    public async Task Every_monitoring_object_helm_renders_validates_against_its_schema()
    {
        foreach (var watch in new[] { "", "ci" })
        {
            var documents = YamlJson.LoadAll(await TemplateAsync(
                "--set", "podMonitor.enabled=true", "--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true",
                "--set", "grafanaDashboard.enabled=true", "--set", $"watchNamespace={watch}"));

            var monitoring = MonitoringSchemas.Monitoring(documents).ToList();
            Assert.Equal(
                MonitoringSchemas.Kinds.Order(StringComparer.Ordinal),
                monitoring.Select(d => $"{(string?)d["apiVersion"]}/{(string?)d["kind"]}").Order(StringComparer.Ordinal));
            var errors = monitoring.SelectMany(d => MonitoringSchemas.Errors(d).Select(e => $"watchNamespace={watch}: {(string?)d["kind"]}: {e}")).ToList();
            Assert.True(errors.Count == 0, string.Join('\n', errors));
        }
    }

    [HelmFact]
    public async Task A_value_the_schema_refuses_fails_the_render()
    {
        var result = await Helm.RunAsync("template", "buildpool", ChartPaths.Chart, "--namespace", "builds", "--set", "logging.format=yaml");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("logging", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> TemplateAsync(params string[] options)
    {
        var result = await Helm.RunAsync(["template", "buildpool", ChartPaths.Chart, "--namespace", "builds", .. options]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
    }
}
