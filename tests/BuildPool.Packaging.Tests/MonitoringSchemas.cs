using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace BuildPool.Packaging.Tests;

/// <summary>
/// The monitoring objects the chart and config/prometheus ship, checked against JSON Schemas in
/// Schemas/: the Prometheus Operator's monitoring.coreos.com/v1 PodMonitor, ServiceMonitor and
/// PrometheusRule (the fields this project uses, with their CRD types, patterns and required
/// fields), and the Grafana dashboard ConfigMap with the dashboard JSON inside it.
/// </summary>
public static class MonitoringSchemas
{
    private static readonly Lazy<(EvaluationOptions Options, IReadOnlyDictionary<string, JsonSchema> ByKind, JsonSchema Dashboard)> Loaded = new(Load);

    /// <summary>The kinds a schema covers, by <c>apiVersion/kind</c>.</summary>
    public static IReadOnlyCollection<string> Kinds => [.. Loaded.Value.ByKind.Keys];

    /// <summary>
    /// Why <paramref name="document"/> is refused, one line per failed keyword; empty when it is
    /// accepted. A kind with no schema here is refused too: a test never passes by checking nothing.
    /// </summary>
    public static IReadOnlyList<string> Errors(JsonNode document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var (options, byKind, dashboard) = Loaded.Value;
        var key = $"{(string?)document["apiVersion"]}/{(string?)document["kind"]}";
        if (!byKind.TryGetValue(key, out var schema))
        {
            return [$"no schema for {key}"];
        }

        var errors = Evaluate(schema, document, options, "");
        if (key == "v1/ConfigMap" && document["data"] is JsonObject data)
        {
            // JSON Schema only annotates a string's media type; parse each dashboard and check it.
            foreach (var (name, value) in data)
            {
                try
                {
                    errors.AddRange(Evaluate(dashboard, JsonNode.Parse((string?)value ?? "")!, options, $"/data/{name}"));
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                    errors.Add($"/data/{name}: not JSON: {e.Message}");
                }
            }
        }

        return errors;
    }

    /// <summary>The objects of <paramref name="documents"/> a schema here covers (monitors, rules, dashboard ConfigMaps).</summary>
    public static IEnumerable<JsonNode> Monitoring(IEnumerable<JsonNode?> documents) =>
        documents.OfType<JsonNode>().Where(d => (string?)d["apiVersion"] == "monitoring.coreos.com/v1"
            || ((string?)d["kind"] == "ConfigMap" && d["metadata"]?["labels"]?["grafana_dashboard"] is not null));

    private static List<string> Evaluate(JsonSchema schema, JsonNode instance, EvaluationOptions options, string prefix)
    {
        var result = schema.Evaluate(instance, options);
        return result.IsValid
            ? []
            : [.. result.Details.Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{prefix}{d.InstanceLocation}: {e.Value}"))];
    }

    private static (EvaluationOptions, IReadOnlyDictionary<string, JsonSchema>, JsonSchema) Load()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Schemas");
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List };
        JsonSchema Read(string file)
        {
            var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(directory, file)));
            options.SchemaRegistry.Register(schema);
            return schema;
        }

        Read("common.schema.json");
        var byKind = new Dictionary<string, JsonSchema>(StringComparer.Ordinal)
        {
            ["monitoring.coreos.com/v1/PodMonitor"] = Read("podmonitor.schema.json"),
            ["monitoring.coreos.com/v1/ServiceMonitor"] = Read("servicemonitor.schema.json"),
            ["monitoring.coreos.com/v1/PrometheusRule"] = Read("prometheusrule.schema.json"),
            ["v1/ConfigMap"] = Read("grafana-dashboard-configmap.schema.json"),
        };
        return (options, byKind, Read("grafana-dashboard.schema.json"));
    }
}
