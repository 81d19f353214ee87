namespace BuildPool.Gateway.Routing;

/// <summary>
/// Opt-in: builds that neither export nor import a cache get the pool's registry cache for their
/// routing key (<c>--cache-to/--cache-from type=registry,ref=&lt;RefTemplate with {key}&gt;</c>).
/// </summary>
public sealed record CacheInjectionOptions
{
    /// <summary>A registry ref with <c>{key}</c>, e.g. <c>cache.internal:5000/cache/{key}</c>; the key is made a valid tag/path first.</summary>
    public required string RefTemplate { get; init; }

    /// <summary>
    /// Where isolated (untrusted) builds import from instead, with <c>{key}</c> like
    /// <see cref="RefTemplate"/>: a managed registry's read-only listener, which they reach
    /// without its client certificate. Null: they import from <see cref="RefTemplate"/>.
    /// </summary>
    public string? UntrustedRefTemplate { get; init; }

    /// <summary>Extra export attributes (e.g. <c>image-manifest=true</c>, <c>oci-mediatypes=true</c>).</summary>
    public IReadOnlyDictionary<string, string> ExportAttributes { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The ref for a routing key: lower case, only [a-z0-9._-], which every registry accepts in a
    /// repository path or tag. A tenant's key (<c>team-a@app</c>) becomes the path <c>team-a/app</c>:
    /// no other key can come out with a slash, so no client's cache ref is a tenant's. Put
    /// <c>{key}</c> in the repository path (as in the example) for tenant keys.
    /// </summary>
    /// <param name="untrusted">For an isolated build: <see cref="UntrustedRefTemplate"/> when there is one.</param>
    public string RefFor(string key, bool untrusted = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        var separator = key.IndexOf(Api.Units.RoutingKeyName.TenantSeparator, StringComparison.Ordinal);
        var clean = separator < 0
            ? Clean(key)
            : string.Concat(Clean(key[..separator]), "/", Clean(key[(separator + 1)..]));
        return (untrusted ? UntrustedRefTemplate ?? RefTemplate : RefTemplate).Replace("{key}", clean, StringComparison.Ordinal);
    }

    /// <summary>
    /// True when <paramref name="reference"/> lies in the pool's registry cache: it starts with
    /// the template's text before <c>{key}</c> (so a template that starts with the key claims every ref).
    /// </summary>
    public bool Covers(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var at = RefTemplate.IndexOf("{key}", StringComparison.Ordinal);
        var prefix = at < 0 ? RefTemplate : RefTemplate[..at];
        return reference.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
    }

    private static string Clean(string key)
    {
        var clean = new System.Text.StringBuilder(Math.Min(key.Length, 128));
        foreach (var c in key.ToLowerInvariant())
        {
            if (clean.Length == 128)
            {
                break;
            }

            clean.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-');
        }

        return clean.ToString().Trim('-', '.');
    }
}
