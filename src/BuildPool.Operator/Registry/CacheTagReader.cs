using System.Globalization;
using System.Text.Json;

namespace BuildPool.Operator.Registry;

/// <summary>
/// Reads what retention needs about a cache tag: digest, age and size.
/// </summary>
/// <remarks>
/// BuildKit's registry cache is either an image manifest (<c>image-manifest=true</c>) whose
/// layers carry <c>buildkit/createdat</c>, or an index whose entries are those layer blobs plus
/// the cache config blob (<c>application/vnd.buildkit.cacheconfig.v0</c>). The age is the newest
/// <c>buildkit/createdat</c>; without one, the config's own dates (a cache config's
/// <c>layers[].annotations.createdAt</c> and <c>records[].layers[].createdAt</c>, an image
/// config's <c>created</c>), then the registry's <c>Last-Modified</c>, in that order.
/// </remarks>
public sealed class CacheTagReader(RegistryClient client)
{
    private readonly Dictionary<(string, string), CacheTag> _byDigest = [];

    /// <summary>The tag, or null if it disappeared since it was listed.</summary>
    public async Task<CacheTag?> ReadAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var manifest = await client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        if (manifest is null)
        {
            return null;
        }

        // Tags often share a manifest (a cache pushed under two names): read it once.
        if (_byDigest.TryGetValue((repository, manifest.Digest), out var known))
        {
            return known with { Tag = tag };
        }

        var layers = new List<RegistryDescriptor>();
        var configs = new List<RegistryDescriptor>();
        if (manifest.IsIndex)
        {
            foreach (var entry in manifest.Manifests)
            {
                if (RegistryMediaTypes.IsManifest(entry.MediaType))
                {
                    // A real image index (a platform's manifest): take that manifest's blobs.
                    if (await client.GetManifestAsync(repository, entry.Digest, cancellationToken).ConfigureAwait(false) is { } child)
                    {
                        layers.AddRange(child.Layers);
                        configs.AddRange(child.Config is null ? [] : [child.Config]);
                    }
                }
                else if (entry.MediaType == RegistryMediaTypes.BuildKitCacheConfig)
                {
                    configs.Add(entry);
                }
                else if (!RegistryMediaTypes.IsIndex(entry.MediaType))
                {
                    layers.Add(entry);
                }
            }
        }
        else
        {
            layers.AddRange(manifest.Layers);
            configs.AddRange(manifest.Config is null ? [] : [manifest.Config]);
        }

        var created = RegistryManifest.NewestCreatedAt(layers);
        foreach (var config in configs)
        {
            if (created is not null)
            {
                break;
            }

            var blob = await client.GetBlobAsync(repository, config.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
            created = blob is { } b ? NewestConfigDate(b.Content) ?? b.LastModified : null;
        }

        created ??= manifest.LastModified;
        var blobs = configs.Concat(layers)
            .Where(d => d.Digest.Length > 0)
            .DistinctBy(d => d.Digest)
            .Select(d => new RegistryBlob(d.Digest, d.Size))
            .ToList();
        var result = new CacheTag(repository, tag, manifest.Digest, created, blobs);
        _byDigest[(repository, manifest.Digest)] = result;
        return result;
    }

    /// <summary>The newest date a cache config or image config records, if any.</summary>
    public static DateTimeOffset? NewestConfigDate(ReadOnlySpan<byte> config)
    {
        try
        {
            var reader = new Utf8JsonReader(config);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            DateTimeOffset? newest = Date(root, "created");
            foreach (var layer in Items(root, "layers"))
            {
                if (layer.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
                {
                    newest = Max(newest, Date(a, "createdAt"));
                }
            }

            foreach (var record in Items(root, "records"))
            {
                foreach (var result in Items(record, "layers"))
                {
                    newest = Max(newest, Date(result, "createdAt"));
                }
            }

            return newest;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<JsonElement> Items(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object)
            : [];

    private static DateTimeOffset? Date(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
        && at.Year > 1 // Go's zero time.Time marshals as 0001-01-01T00:00:00Z
            ? at
            : null;

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
