namespace BuildPool.Lint.Parsing;

/// <summary>A RUN's <c>--mount=type=cache,target=/root/.npm,sharing=locked</c>; BuildKit's default type is <c>bind</c>.</summary>
public sealed record Mount(string Type, string? Target, string? Id, string? Sharing, string? Source)
{
    public static Mount Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            options[eq < 0 ? part : part[..eq]] = eq < 0 ? "" : part[(eq + 1)..].Trim('"', '\'');
        }

        string? Get(params string[] keys) => keys.Select(k => options.GetValueOrDefault(k)).FirstOrDefault(v => v is not null);
        return new Mount(
            Get("type")?.ToLowerInvariant() ?? "bind",
            Get("target", "dst", "destination"),
            Get("id"),
            Get("sharing")?.ToLowerInvariant(),
            Get("source", "src"));
    }
}
