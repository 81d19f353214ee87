using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;

namespace BuildPool.Operator.Tests.Rendering;

/// <summary>
/// YAML for golden files, from the object's Kubernetes JSON (so field names are the API's): maps
/// and lists in block style, every string double-quoted, nulls left out as the API leaves them out.
/// </summary>
internal static class GoldenYaml
{
    /// <summary>One document of named parts, in the order given.</summary>
    public static string Of(params (string Name, object? Value)[] parts)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in parts)
        {
            Write(text, name, JsonNode.Parse(KubernetesJson.Serialize(value)), 0);
        }

        return text.ToString();
    }

    private static void Write(StringBuilder text, string key, JsonNode? node, int indent)
    {
        var pad = new string(' ', indent);
        switch (node)
        {
            case null:
                return;
            case JsonObject { Count: > 0 } map:
                text.Append(CultureInfo.InvariantCulture, $"{pad}{key}:\n");
                foreach (var (k, v) in map)
                {
                    Write(text, k, v, indent + 2);
                }

                return;
            case JsonArray { Count: > 0 } list:
                text.Append(CultureInfo.InvariantCulture, $"{pad}{key}:\n");
                foreach (var item in list)
                {
                    WriteItem(text, item, indent + 2);
                }

                return;
            default:
                text.Append(CultureInfo.InvariantCulture, $"{pad}{key}: {Scalar(node)}\n");
                return;
        }
    }

    private static void WriteItem(StringBuilder text, JsonNode? item, int indent)
    {
        if (item is not JsonObject { Count: > 0 } map)
        {
            text.Append(CultureInfo.InvariantCulture, $"{new string(' ', indent)}- {(item is null ? "null" : Scalar(item))}\n");
            return;
        }

        // "- " then the map's fields, the first on the dash's line.
        var start = text.Length;
        foreach (var (k, v) in map)
        {
            Write(text, k, v, indent + 2);
        }

        if (text.Length == start)
        {
            text.Append(CultureInfo.InvariantCulture, $"{new string(' ', indent)}- {{}}\n");
            return;
        }

        text.Remove(start + indent, 2).Insert(start + indent, "- ");
    }

    // A JSON string is a YAML double-quoted scalar; numbers, booleans, {} and [] read the same in both.
    private static string Scalar(JsonNode node) => node.ToJsonString(Readable);

    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
