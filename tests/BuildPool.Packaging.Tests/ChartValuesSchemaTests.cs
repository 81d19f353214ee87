using System.Text.Json.Nodes;

namespace BuildPool.Packaging.Tests;

public sealed class ChartValuesSchemaTests
{
    [Fact]
    public void Values_yaml_as_shipped_is_valid()
    {
        var errors = ChartValuesSchema.Errors(ChartValues.Load());

        Assert.True(errors.Count == 0, "values.yaml fails values.schema.json:\n" + string.Join('\n', errors));
    }

    public static TheoryData<string, string> BadValues() => new()
    {
        { "replicaCount", "\"two\"" },
        { "replicaCount", "0" },
        { "image.pullPolicy", "\"Sometimes\"" },
        { "image.repository", "\"\"" },
        { "imagePullSecrets", "[\"my-login\"]" },
        { "imagePullSecrets", "[{\"secret\": \"my-login\"}]" },
        { "logging.format", "\"yaml\"" },
        { "logging.level", "\"verbose\"" },
        { "metrics.port", "70000" },
        { "serviceMonitor.interval", "\"30 seconds\"" },
        // The Prometheus Operator's Duration: whole units, largest first (the API server refuses others).
        { "serviceMonitor.interval", "\"1.5m\"" },
        { "podMonitor.scrapeTimeout", "\"30s1m\"" },
        { "podMonitor.enabled", "\"yes\"" },
        { "podDisruptionBudget.maxUnavailable", "0" },
        { "watchNamespace", "\"Builds\"" },
        { "grafanaDashboard.labels", "{\"grafana_dashboard\": 1}" },
        // A typo is refused instead of silently doing nothing.
        { "serviceMonitor.enable", "true" },
        { "replicas", "3" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_wrong_value_is_refused_naming_where_it_is(string path, string json)
    {
        var errors = ChartValuesSchema.Errors(ChartValuesSchema.With(path, JsonNode.Parse(json)));

        var parent = "/" + string.Join('/', path.Split('.')[..^1]);
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.StartsWith(parent.TrimEnd('/'), StringComparison.Ordinal));
    }

    public static TheoryData<string, string> GoodValues() => new()
    {
        { "imagePullSecrets", "[{\"name\": \"mirror-login\"}]" },
        { "logging.format", "\"json\"" },
        { "podDisruptionBudget.maxUnavailable", "\"50%\"" },
        { "serviceMonitor.interval", "\"1m30s\"" },
        { "tolerations", "[{\"key\": \"ci\", \"operator\": \"Exists\"}]" },
        { "watchNamespace", "\"builds\"" },
    };

    [Theory]
    [MemberData(nameof(GoodValues))]
    public void Settings_a_user_may_give_are_accepted(string path, string json)
    {
        var errors = ChartValuesSchema.Errors(ChartValuesSchema.With(path, JsonNode.Parse(json)));

        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public void The_schema_describes_every_setting_of_values_yaml()
    {
        var schema = ChartValuesSchema.Document();
        var undescribed = ChartValues.Leaves(ChartValues.Load())
            .Where(leaf => !Describes(schema, leaf.Split('.')))
            .ToList();

        Assert.True(undescribed.Count == 0, "values.yaml settings values.schema.json does not describe:\n" + string.Join('\n', undescribed));
    }

    // A path is described when the schema names each segment, or reaches a map of any keys on the way.
    private static bool Describes(JsonObject schema, string[] path)
    {
        JsonNode? node = schema;
        foreach (var segment in path)
        {
            if (node?["properties"]?[segment] is { } property)
            {
                node = property;
            }
            else
            {
                return node?["properties"] is null && (string?)node?["type"] == "object";
            }
        }

        return node is not null;
    }
}
