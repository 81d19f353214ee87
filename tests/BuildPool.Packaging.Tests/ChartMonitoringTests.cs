using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator;
using BuildPool.Operator.Pools;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Packaging.Tests;

/// <summary>
/// The monitoring the chart and config/prometheus ship: both the same rules and dashboard, and
/// monitors that select what the operator really runs.
/// </summary>
public sealed partial class ChartMonitoringTests
{
    private static readonly string Prometheus = Path.Combine(ChartPaths.Config, "prometheus");

    [Theory]
    [InlineData("alerts.yaml")]
    [InlineData("buildpool-dashboard.json")]
    public void The_chart_ships_the_same_file_as_config_prometheus(string file) =>
        // Helm reads only files inside the chart, kustomize only files under its root: one copy each.
        Assert.True(
            File.ReadAllText(Path.Combine(Prometheus, file)) == File.ReadAllText(Path.Combine(ChartPaths.Chart, "files", file)),
            $"charts/buildpool/files/{file} differs from config/prometheus/{file}: copy it over");

    [Fact]
    public void Every_alert_has_a_name_an_expression_a_severity_and_a_summary_and_waits_a_prometheus_duration()
    {
        var rule = YamlJson.Load(File.ReadAllText(Path.Combine(Prometheus, "alerts.yaml")))!;
        var rules = rule["spec"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).ToList();

        Assert.Equal("PrometheusRule", (string?)rule["kind"]);
        Assert.NotEmpty(rules);
        Assert.All(rules, r =>
        {
            Assert.Matches("^BuildPool[A-Za-z]+$", (string?)r!["alert"] ?? "");
            Assert.False(string.IsNullOrWhiteSpace((string?)r["expr"]));
            Assert.Contains((string?)r["labels"]?["severity"], new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace((string?)r["annotations"]?["summary"]));
            if (r["for"] is { } wait)
            {
                Assert.Matches(PrometheusDuration(), (string?)wait ?? "");
            }
        });
        Assert.Equal(rules.Count, rules.Select(r => (string?)r!["alert"]).Distinct().Count());
    }

    [Fact]
    public void The_pod_monitors_select_the_gateway_pods_the_operator_creates_and_scrape_their_metrics_port()
    {
        var monitor = YamlJson.LoadAll(File.ReadAllText(Path.Combine(Prometheus, "monitors.yaml"))).Single(d => (string?)d!["kind"] == "PodMonitor")!;
        var selector = monitor["spec"]!["selector"]!["matchLabels"]!.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!);
        var port = (string?)monitor["spec"]!["podMetricsEndpoints"]![0]!["port"];

        var pool = new BuilderPool { Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "builds", Uid = "u" } };
        var plan = BuilderPoolPlanner.Plan(pool, new OperatorOptions());
        var gatewayPod = plan.Gateway.Spec.Template;
        Assert.All(selector, kv => Assert.Equal(kv.Value, gatewayPod.Metadata.Labels.TryGetValue(kv.Key, out var v) ? v : null));
        Assert.Contains(port, gatewayPod.Spec.Containers.SelectMany(c => c.Ports).Select(p => p.Name));
        // Not the builders: they serve no metrics.
        var builderLabels = plan.BuilderDisruptionBudget.Spec.Selector.MatchLabels;
        Assert.Contains(selector, kv => builderLabels.TryGetValue(kv.Key, out var v) && v != kv.Value);

        // The chart's PodMonitor selects the same labels and port.
        var chart = File.ReadAllText(ChartPaths.Template("podmonitor.yaml"));
        Assert.All(selector, kv => Assert.Contains($"{kv.Key}: {kv.Value}\n", chart, StringComparison.Ordinal));
        Assert.Contains($"- port: {port}\n", chart, StringComparison.Ordinal);
    }

    [Fact]
    public void The_chart_templates_of_the_optional_monitoring_render_nothing_unless_enabled()
    {
        foreach (var (file, flag) in new[] { ("podmonitor.yaml", "podMonitor"), ("prometheusrule.yaml", "prometheusRule"), ("grafana-dashboard.yaml", "grafanaDashboard"), ("servicemonitor.yaml", "serviceMonitor") })
        {
            var template = ChartTemplate.Load(ChartPaths.Template(file));
            Assert.Empty(template.Errors);
            Assert.Contains(template.Actions, a => a.Text == $"if .Values.{flag}.enabled");
            Assert.Equal("end", template.Actions[^1].Text);
            Assert.False((bool)ChartValues.Load()[flag]!["enabled"]!, $"{flag}.enabled must be false by default: the Prometheus Operator CRDs may not exist");
        }
    }

    [Fact]
    public void The_dashboard_configmap_carries_the_grafana_dashboard_label_and_the_files_the_chart_reads_exist()
    {
        var text = File.ReadAllText(ChartPaths.Template("grafana-dashboard.yaml"));
        Assert.Contains("grafana_dashboard: \"1\"", text, StringComparison.Ordinal);
        foreach (Match read in FilesGet().Matches(string.Concat(ChartPaths.AllTemplateFiles().Select(File.ReadAllText))))
        {
            Assert.True(File.Exists(Path.Combine(ChartPaths.Chart, read.Groups[1].Value)), $".Files.Get \"{read.Groups[1].Value}\" reads a file the chart does not have");
        }
    }

    [KubectlFact]
    public async Task Config_prometheus_renders_the_monitors_the_rules_and_the_dashboard_configmap_in_the_operators_namespace()
    {
        var documents = YamlJson.LoadAll(await KustomizeRender.PrometheusAsync()).Select(d => d!.AsObject()).ToList();

        Assert.Equal(["ConfigMap", "PodMonitor", "PrometheusRule", "ServiceMonitor"], documents.Select(d => (string)d["kind"]!).Order(StringComparer.Ordinal));
        Assert.All(documents, d => Assert.Equal("buildpool-system", (string?)d["metadata"]!["namespace"]));

        var configMap = KubernetesModels.LoadAll(documents.Single(d => (string?)d["kind"] == "ConfigMap").ToJsonString()).Single().Model as V1ConfigMap;
        Assert.Equal("1", configMap!.Metadata.Labels["grafana_dashboard"]);
        using var dashboard = JsonDocument.Parse(Assert.Single(configMap.Data).Value);
        Assert.Equal("buildpool", dashboard.RootElement.GetProperty("uid").GetString());

        // The ServiceMonitor selects config/default's metrics Service, by a port it has.
        var service = KubernetesModels.LoadAll(await KustomizeRender.DefaultAsync()).Select(o => o.Model).OfType<V1Service>().Single();
        var serviceMonitor = documents.Single(d => (string?)d["kind"] == "ServiceMonitor")["spec"]!;
        Assert.All(serviceMonitor["selector"]!["matchLabels"]!.AsObject(), kv => Assert.Equal((string)kv.Value!, service.Metadata.Labels[kv.Key]));
        Assert.Contains((string?)serviceMonitor["endpoints"]![0]!["port"], service.Spec.Ports.Select(p => p.Name));

        var rule = documents.Single(d => (string?)d["kind"] == "PrometheusRule");
        Assert.True(JsonNode.DeepEquals(YamlJson.Load(File.ReadAllText(Path.Combine(Prometheus, "alerts.yaml")))!["spec"], rule["spec"]));
    }

    [GeneratedRegex(@"^([0-9]+(ms|s|m|h|d|w|y))+$")]
    private static partial Regex PrometheusDuration();

    [GeneratedRegex(@"\.Files\.Get\s+""([^""]+)""")]
    private static partial Regex FilesGet();
}
