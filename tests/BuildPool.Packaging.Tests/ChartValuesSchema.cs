using System.Text.Json.Nodes;
using Json.Schema;

namespace BuildPool.Packaging.Tests;

/// <summary>charts/buildpool/values.schema.json, applied the way Helm applies it to the merged values.</summary>
public static class ChartValuesSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(Path.Combine(ChartPaths.Chart, "values.schema.json"))));

    public static JsonObject Document() => JsonNode.Parse(File.ReadAllText(Path.Combine(ChartPaths.Chart, "values.schema.json")))!.AsObject();

    /// <summary>Why <paramref name="values"/> is refused, one line per failed keyword; empty when it is accepted.</summary>
    public static IReadOnlyList<string> Errors(JsonNode values)
    {
        var result = Schema.Value.Evaluate(values, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : [.. result.Details.Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))];
    }

    /// <summary>values.yaml with <paramref name="path"/> (dotted) set to <paramref name="value"/>, as <c>--set</c> would.</summary>
    public static JsonObject With(string path, JsonNode? value)
    {
        ArgumentNullException.ThrowIfNull(path);
        var values = ChartValues.Load();
        var segments = path.Split('.');
        var node = values;
        foreach (var segment in segments[..^1])
        {
            if (node[segment] is not JsonObject child)
            {
                child = [];
                node[segment] = child;
            }

            node = child;
        }

        node[segments[^1]] = value;
        return values;
    }
}
