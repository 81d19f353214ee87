using System.Text.Json.Nodes;
using BuildPool.LocalApi.Http;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Selectors;

/// <summary>The string form of a label selector: <c>a=b,c!=d,e in (f,g),h notin (i),j,!k</c>.</summary>
internal sealed class LabelSelector
{
    private readonly List<Func<JsonObject?, bool>> _terms = [];

    public static readonly LabelSelector Everything = new();

    public bool Matches(JsonObject obj)
    {
        var labels = JsonUtil.Labels(obj);
        return _terms.TrueForAll(t => t(labels));
    }

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var raw in SplitTerms(text))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            selector._terms.Add(ParseTerm(term, text));
        }

        return selector;
    }

    private static Func<JsonObject?, bool> ParseTerm(string term, string whole)
    {
        static string? Get(JsonObject? labels, string key) => labels is null ? null : JsonUtil.Str(labels[key]);

        if (term.StartsWith('!'))
        {
            var key = term[1..].Trim();
            return l => Get(l, key) is null;
        }

        var setMatch = System.Text.RegularExpressions.Regex.Match(term, @"^(\S+)\s+(in|notin)\s*\((.*)\)$");
        if (setMatch.Success)
        {
            var key = setMatch.Groups[1].Value;
            var values = setMatch.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            return setMatch.Groups[2].Value == "in"
                ? l => Get(l, key) is { } v && values.Contains(v)
                : l => Get(l, key) is not { } v || !values.Contains(v);
        }

        foreach (var op in new[] { "!=", "==", "=" })
        {
            var i = term.IndexOf(op, StringComparison.Ordinal);
            if (i > 0)
            {
                var key = term[..i].Trim();
                var value = term[(i + op.Length)..].Trim();
                return op == "!="
                    ? l => Get(l, key) != value
                    : l => Get(l, key) == value;
            }
        }

        if (term.Any(char.IsWhiteSpace) || term.IndexOfAny(['(', ')', '<', '>']) >= 0)
        {
            throw Status.BadRequest($"unable to parse requirement: found '{term}', expected: ',' or 'end of string' in selector \"{whole}\"");
        }

        return l => Get(l, term) is not null;
    }

    private static IEnumerable<string> SplitTerms(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }
}
