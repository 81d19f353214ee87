using System.Text.Json.Nodes;
using BuildPool.LocalApi.Http;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Selectors;

/// <summary>
/// Field selectors: <c>metadata.name=x,metadata.namespace!=y</c>. The real server only allows a
/// per-kind set of fields; any dotted path is accepted here, which is a superset.
/// </summary>
internal sealed class FieldSelector
{
    private readonly List<(string Path, bool Equal, string Value)> _terms = [];

    public static readonly FieldSelector Everything = new();

    /// <summary>The name a <c>metadata.name=</c> term pins, which turns a watch into a single-object watch.</summary>
    public string? Name => _terms.Where(t => t.Path == "metadata.name" && t.Equal).Select(t => t.Value).FirstOrDefault();

    public static FieldSelector Parse(string? text)
    {
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var (i, len, equal) = raw.IndexOf("!=", StringComparison.Ordinal) is var ne and > 0 ? (ne, 2, false)
                : raw.IndexOf("==", StringComparison.Ordinal) is var ee and > 0 ? (ee, 2, true)
                : raw.IndexOf('=', StringComparison.Ordinal) is var e and > 0 ? (e, 1, true)
                : (-1, 0, false);
            if (i < 0)
            {
                throw Status.BadRequest($"invalid selector: '{text}'; can't understand '{raw}'");
            }

            selector._terms.Add((raw[..i].Trim(), equal, raw[(i + len)..].Trim()));
        }

        return selector;
    }

    public bool Matches(JsonObject obj) => _terms.TrueForAll(t =>
    {
        JsonNode? node = obj;
        foreach (var part in t.Path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }

        var actual = node switch
        {
            null => "",
            JsonValue v when JsonUtil.Str(v) is { } s => s,
            _ => node.ToJsonString(),
        };
        return (actual == t.Value) == t.Equal;
    });
}
