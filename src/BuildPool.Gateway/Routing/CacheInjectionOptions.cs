namespace BuildPool.Gateway.Routing;

/// <summary>
/// Opt-in: builds that neither export nor import a cache get the pool's registry cache for their
/// routing key (<c>--cache-to/--cache-from type=registry,ref=&lt;RefTemplate with {key}&gt;</c>).
/// </summary>
public sealed record CacheInjectionOptions
{
    /// <summary>A registry ref with <c>{key}</c>, e.g. <c>cache.internal:5000/cache/{key}</c>; the key is made a valid tag/path first.</summary>
    public required string RefTemplate { get; init; }

    /// <summary>Extra export attributes (e.g. <c>image-manifest=true</c>, <c>oci-mediatypes=true</c>).</summary>
    public IReadOnlyDictionary<string, string> ExportAttributes { get; init; } = new Dictionary<string, string>();

    /// <summary>The ref for a routing key: lower case, only [a-z0-9._-/], which every registry accepts in a repository path or tag.</summary>
    public string RefFor(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var clean = new System.Text.StringBuilder(Math.Min(key.Length, 128));
        foreach (var c in key.ToLowerInvariant())
        {
            if (clean.Length == 128)
            {
                break;
            }

            clean.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-');
        }

        return RefTemplate.Replace("{key}", clean.ToString().Trim('-', '.'), StringComparison.Ordinal);
    }
}
