using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Tables;

/// <summary>
/// The JSONPath subset printer columns use: <c>.a.b</c>, <c>.a[0].b</c>, <c>.a[*].b</c> and
/// <c>.conditions[?(@.type=="Ready")].status</c>. Returns every match, like kubectl's evaluator.
/// </summary>
internal static partial class SimpleJsonPath
{
    [GeneratedRegex(@"\.([^.\[]+)|\[(\d+|\*)\]|\[\?\(@\.([\w.-]+)\s*==\s*[""']([^""']*)[""']\)\]")]
    private static partial Regex Segment();

    public static List<JsonNode> Evaluate(JsonNode root, string path)
    {
        path = path.Trim();
        if (path.StartsWith('{') && path.EndsWith('}'))
        {
            path = path[1..^1];
        }

        if (path.StartsWith('$'))
        {
            path = path[1..];
        }

        List<JsonNode> current = [root];
        foreach (Match m in Segment().Matches(path))
        {
            var next = new List<JsonNode>();
            foreach (var node in current)
            {
                if (m.Groups[1].Success)
                {
                    if (node is JsonObject o && o[m.Groups[1].Value] is { } child)
                    {
                        next.Add(child);
                    }
                }
                else if (m.Groups[2].Success && node is JsonArray a)
                {
                    if (m.Groups[2].Value == "*")
                    {
                        next.AddRange(a.Where(i => i is not null)!);
                    }
                    else if (int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) is var i && i < a.Count && a[i] is { } item)
                    {
                        next.Add(item);
                    }
                }
                else if (m.Groups[3].Success && node is JsonArray filtered)
                {
                    var field = m.Groups[3].Value;
                    var want = m.Groups[4].Value;
                    next.AddRange(filtered.OfType<JsonObject>().Where(o => Lookup(o, field) is { } v && (JsonUtil.Str(v) ?? v.ToJsonString()) == want));
                }
            }

            current = next;
        }

        return current;
    }

    private static JsonNode? Lookup(JsonObject o, string dotted)
    {
        JsonNode? node = o;
        foreach (var part in dotted.Split('.'))
        {
            node = node is JsonObject obj ? obj[part] : null;
        }

        return node;
    }
}
