using System.Text.Json.Nodes;
using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

/// <summary>
/// The monitors, rules and dashboard ConfigMap that config/prometheus and the chart ship hold to the
/// Prometheus Operator's v1 schemas (and the dashboard sidecar's), and those schemas refuse the
/// mistakes the API server or the Prometheus Operator would: a misspelt field, a bad duration, a
/// rule without an expression.
/// </summary>
public sealed class MonitoringSchemaTests
{
    private static readonly string Prometheus = Path.Combine(ChartPaths.Config, "prometheus");

    public static TheoryData<string> SourceFiles() => new(
        "config/prometheus/monitors.yaml", "config/prometheus/alerts.yaml", "charts/buildpool/files/alerts.yaml");

    [Theory]
    [MemberData(nameof(SourceFiles))]
    public void Every_monitoring_object_of_the_source_files_validates(string file)
    {
        var documents = YamlJson.LoadAll(File.ReadAllText(Path.Combine(RepositoryPaths.Root, file)));

        Assert.NotEmpty(documents);
        AssertValid(documents);
    }

    [KubectlFact]
    public async Task Every_object_config_prometheus_renders_validates_against_its_schema()
    {
        var documents = YamlJson.LoadAll(await KustomizeRender.PrometheusAsync());

        // Every object of the render is one a schema covers, and each kind is there.
        Assert.Equal(documents.Count, MonitoringSchemas.Monitoring(documents).Count());
        Assert.Equal(
            MonitoringSchemas.Kinds.Order(StringComparer.Ordinal),
            documents.Select(d => $"{(string?)d!["apiVersion"]}/{(string?)d["kind"]}").Order(StringComparer.Ordinal));
        AssertValid(documents);
    }

    [Fact]
    public void A_dashboard_configmap_as_config_prometheus_generates_it_validates()
    {
        Assert.Empty(MonitoringSchemas.Errors(DashboardConfigMap()));
    }

    [Fact]
    public void A_kind_without_a_schema_is_refused_rather_than_passed_unchecked()
    {
        var probe = PodMonitor();
        probe["apiVersion"] = "monitoring.coreos.com/v1alpha1";

        Assert.Equal(["no schema for monitoring.coreos.com/v1alpha1/PodMonitor"], MonitoringSchemas.Errors(probe));
    }

    public static TheoryData<string> Mistakes() => new(
        "PodMonitor spec.podMetricsEndpoints misspelt podMetricEndpoints",
        "PodMonitor interval 30 seconds",
        "PodMonitor without a selector",
        "PodMonitor selector with matchLabel",
        "PodMonitor namespaceSelector any as a string",
        "ServiceMonitor endpoint scheme tcp",
        "ServiceMonitor scrapeTimeout 10",
        "PrometheusRule rule without expr",
        "PrometheusRule rule with neither alert nor record",
        "PrometheusRule rule with both alert and record",
        "PrometheusRule for 15 minutes",
        "PrometheusRule label value a number",
        "PrometheusRule group without a name",
        "PrometheusRule rule field exp",
        "ConfigMap without the grafana_dashboard label",
        "ConfigMap dashboard without panels",
        "ConfigMap dashboard that is not JSON");

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void The_schemas_refuse_a_manifest_with(string mistake)
    {
        var (document, where, says) = Broken(mistake);

        var errors = MonitoringSchemas.Errors(document);

        Assert.True(
            errors.Any(e => e.StartsWith(where + ": ", StringComparison.Ordinal) && e.Contains(says, StringComparison.Ordinal)),
            $"{mistake}: expected an error at {where} saying {says}, got: [{string.Join("; ", errors)}]");
    }

    /// <summary>A shipped object with one mistake, the instance location the schema should blame, and what it should say.</summary>
    private static (JsonNode Document, string Where, string Says) Broken(string mistake)
    {
        switch (mistake)
        {
            case "PodMonitor spec.podMetricsEndpoints misspelt podMetricEndpoints":
                {
                    var d = PodMonitor();
                    var spec = d["spec"]!.AsObject();
                    var endpoints = spec["podMetricsEndpoints"]!;
                    spec.Remove("podMetricsEndpoints");
                    spec["podMetricEndpoints"] = endpoints;
                    return (d, "/spec/podMetricEndpoints", "false schema");
                }

            case "PodMonitor interval 30 seconds":
                {
                    var d = PodMonitor();
                    d["spec"]!["podMetricsEndpoints"]![0]!["interval"] = "30 seconds";
                    return (d, "/spec/podMetricsEndpoints/0/interval", "regular expression");
                }

            case "PodMonitor without a selector":
                {
                    var d = PodMonitor();
                    d["spec"]!.AsObject().Remove("selector");
                    return (d, "/spec", "[\"selector\"]");
                }

            case "PodMonitor selector with matchLabel":
                {
                    var d = PodMonitor();
                    var selector = d["spec"]!["selector"]!.AsObject();
                    var labels = selector["matchLabels"]!;
                    selector.Remove("matchLabels");
                    selector["matchLabel"] = labels;
                    return (d, "/spec/selector/matchLabel", "false schema");
                }

            case "PodMonitor namespaceSelector any as a string":
                {
                    var d = PodMonitor();
                    d["spec"]!["namespaceSelector"]!["any"] = "true";
                    return (d, "/spec/namespaceSelector/any", "\"boolean\"");
                }

            case "ServiceMonitor endpoint scheme tcp":
                {
                    var d = ServiceMonitor();
                    d["spec"]!["endpoints"]![0]!["scheme"] = "tcp";
                    return (d, "/spec/endpoints/0/scheme", "enum");
                }

            case "ServiceMonitor scrapeTimeout 10":
                {
                    var d = ServiceMonitor();
                    d["spec"]!["endpoints"]![0]!["scrapeTimeout"] = 10;
                    return (d, "/spec/endpoints/0/scrapeTimeout", "\"string\"");
                }

            case "PrometheusRule rule without expr":
                {
                    var d = Rules();
                    FirstRule(d).Remove("expr");
                    return (d, "/spec/groups/0/rules/0", "[\"expr\"]");
                }

            case "PrometheusRule rule with neither alert nor record":
                {
                    var d = Rules();
                    FirstRule(d).Remove("alert");
                    return (d, "/spec/groups/0/rules/0", "found 0");
                }

            case "PrometheusRule rule with both alert and record":
                {
                    var d = Rules();
                    FirstRule(d)["record"] = "buildpool:volume_used:ratio";
                    return (d, "/spec/groups/0/rules/0", "found 2");
                }

            case "PrometheusRule for 15 minutes":
                {
                    var d = Rules();
                    FirstRule(d)["for"] = "15 minutes";
                    return (d, "/spec/groups/0/rules/0/for", "regular expression");
                }

            case "PrometheusRule label value a number":
                {
                    var d = Rules();
                    FirstRule(d)["labels"]!["priority"] = 1;
                    return (d, "/spec/groups/0/rules/0/labels/priority", "\"string\"");
                }

            case "PrometheusRule group without a name":
                {
                    var d = Rules();
                    d["spec"]!["groups"]![0]!.AsObject().Remove("name");
                    return (d, "/spec/groups/0", "[\"name\"]");
                }

            case "PrometheusRule rule field exp":
                {
                    var d = Rules();
                    var rule = FirstRule(d);
                    rule["exp"] = rule["expr"]!.DeepClone();
                    return (d, "/spec/groups/0/rules/0/exp", "false schema");
                }

            case "ConfigMap without the grafana_dashboard label":
                {
                    var d = DashboardConfigMap();
                    d["metadata"]!["labels"]!.AsObject().Remove("grafana_dashboard");
                    return (d, "/metadata/labels", "grafana_dashboard");
                }

            case "ConfigMap dashboard without panels":
                {
                    var d = DashboardConfigMap();
                    var dashboard = JsonNode.Parse((string)d["data"]!["buildpool-dashboard.json"]!)!.AsObject();
                    dashboard.Remove("panels");
                    d["data"]!["buildpool-dashboard.json"] = dashboard.ToJsonString();
                    return (d, "/data/buildpool-dashboard.json", "[\"panels\"]");
                }

            case "ConfigMap dashboard that is not JSON":
                {
                    var d = DashboardConfigMap();
                    d["data"]!["buildpool-dashboard.json"] = "title: BuildPool";
                    return (d, "/data/buildpool-dashboard.json", "not JSON");
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(mistake), mistake, "no such mistake");
        }
    }

    private static void AssertValid(IEnumerable<JsonNode?> documents)
    {
        var errors = MonitoringSchemas.Monitoring(documents)
            .SelectMany(d => MonitoringSchemas.Errors(d).Select(e => $"{(string?)d["kind"]} {(string?)d["metadata"]?["name"]}: {e}"))
            .ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    private static JsonObject Monitor(string kind) =>
        YamlJson.LoadAll(File.ReadAllText(Path.Combine(Prometheus, "monitors.yaml"))).Single(d => (string?)d!["kind"] == kind)!.AsObject();

    private static JsonObject PodMonitor() => Monitor("PodMonitor");

    private static JsonObject ServiceMonitor() => Monitor("ServiceMonitor");

    private static JsonObject Rules() => YamlJson.Load(File.ReadAllText(Path.Combine(Prometheus, "alerts.yaml")))!.AsObject();

    private static JsonObject FirstRule(JsonNode rules) => rules["spec"]!["groups"]![0]!["rules"]![0]!.AsObject();

    /// <summary>The ConfigMap config/prometheus/kustomization.yaml generates, built here so the check runs without kubectl.</summary>
    private static JsonObject DashboardConfigMap() => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject
        {
            ["name"] = "buildpool-grafana-dashboard",
            ["namespace"] = "buildpool-system",
            ["labels"] = new JsonObject { ["grafana_dashboard"] = "1", ["app.kubernetes.io/name"] = "buildpool" },
        },
        ["data"] = new JsonObject { ["buildpool-dashboard.json"] = File.ReadAllText(Path.Combine(Prometheus, "buildpool-dashboard.json")) },
    };
}
