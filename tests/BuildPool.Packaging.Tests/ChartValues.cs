using System.Text.Json.Nodes;

namespace BuildPool.Packaging.Tests;

/// <summary>values.yaml as a JSON tree, and lookups by dotted path.</summary>
public static class ChartValues
{
    public static JsonObject Load() => YamlJson.Load(File.ReadAllText(ChartPaths.Values)) as JsonObject
        ?? throw new InvalidOperationException("values.yaml is not a mapping");

    /// <summary>Why <paramref name="path"/> cannot be read from <paramref name="values"/>, or null when it can.</summary>
    public static string? Missing(JsonObject values, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonNode? node = values;
        var walked = "";
        foreach (var segment in path.Split('.'))
        {
            if (node is not JsonObject map)
            {
                return $"'{walked}' is {Describe(node)}, so it has no '{segment}'";
            }

            if (!map.ContainsKey(segment))
            {
                return walked.Length == 0 ? $"there is no top-level '{segment}'" : $"'{walked}' has no '{segment}'";
            }

            node = map[segment];
            walked = walked.Length == 0 ? segment : $"{walked}.{segment}";
        }

        return null;
    }

    /// <summary>Dotted paths of the leaves: scalars, lists, and empty maps (which users fill).</summary>
    public static IEnumerable<string> Leaves(JsonNode? node, string prefix = "")
    {
        if (node is JsonObject { Count: > 0 } map)
        {
            foreach (var (key, child) in map)
            {
                foreach (var leaf in Leaves(child, prefix.Length == 0 ? key : $"{prefix}.{key}"))
                {
                    yield return leaf;
                }
            }
        }
        else
        {
            yield return prefix;
        }
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "a list",
        _ => $"the scalar {node.ToJsonString()}",
    };
}
