using System.Globalization;
using System.Text.Json;

namespace BuildPool.Operator.Registry;

/// <summary>
/// A manifest or index as the registry served it. <see cref="Manifests"/> holds an index's
/// entries (for a BuildKit cache index: the layer blobs and the cache config, not manifests).
/// </summary>
public sealed record RegistryManifest(
    string MediaType,
    string Digest,
    long Size,
    RegistryDescriptor? Config,
    IReadOnlyList<RegistryDescriptor> Layers,
    IReadOnlyList<RegistryDescriptor> Manifests,
    DateTimeOffset? LastModified)
{
    public bool IsIndex => RegistryMediaTypes.IsIndex(MediaType);

    /// <summary>Parses the JSON body; the media type comes from the body or, failing that, the Content-Type.</summary>
    public static RegistryManifest Parse(ReadOnlySpan<byte> body, string? contentType, string digest, DateTimeOffset? lastModified)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var mediaType = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String
                ? mt.GetString()!
                : contentType ?? "";
            var config = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? Descriptor(c) : null;
            return new RegistryManifest(mediaType, digest, body.Length, config, Descriptors(root, "layers"), Descriptors(root, "manifests"), lastModified);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new RegistryException(RegistryErrorKind.Failed, $"manifest {digest} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static List<RegistryDescriptor> Descriptors(JsonElement root, string property) =>
        root.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(Descriptor).ToList()
            : [];

    private static RegistryDescriptor Descriptor(JsonElement e)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in a.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
            {
                annotations[p.Name] = p.Value.GetString()!;
            }
        }

        return new RegistryDescriptor(
            String(e, "mediaType"),
            String(e, "digest"),
            e.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var size) ? size : 0,
            annotations);
    }

    private static string String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    /// <summary>The newest <c>buildkit/createdat</c> annotation among the descriptors, if any parses.</summary>
    public static DateTimeOffset? NewestCreatedAt(IEnumerable<RegistryDescriptor> descriptors)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        DateTimeOffset? newest = null;
        foreach (var d in descriptors)
        {
            if (d.Annotations.TryGetValue(RegistryMediaTypes.CreatedAtAnnotation, out var text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                && (newest is null || at > newest))
            {
                newest = at;
            }
        }

        return newest;
    }
}
