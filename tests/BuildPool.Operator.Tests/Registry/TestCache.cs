using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BuildPool.Operator.Registry;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>A blob of a test cache: content and descriptor fields.</summary>
internal sealed record TestBlob(string MediaType, byte[] Content, IReadOnlyDictionary<string, string> Annotations)
{
    public string Digest { get; } = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Content));

    public long Size => Content.Length;

    public static TestBlob Layer(int size, int seed, DateTimeOffset? createdAt)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        var annotations = createdAt is { } at
            ? new Dictionary<string, string> { [RegistryMediaTypes.CreatedAtAnnotation] = Rfc3339(at) }
            : [];
        return new TestBlob("application/vnd.oci.image.layer.v1.tar+gzip", content, annotations);
    }

    public static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// A cache as BuildKit exports it to a registry: an OCI image manifest (image-manifest=true) or
/// an OCI index listing the layer blobs and the cache config, layers annotated with
/// buildkit/createdat (unless <c>annotate</c> is false; the config then carries the dates).
/// </summary>
internal sealed class TestCache
{
    private TestCache(IReadOnlyList<TestBlob> layers, TestBlob config, string mediaType, byte[] manifest)
    {
        Layers = layers;
        Config = config;
        MediaType = mediaType;
        Manifest = manifest;
        Digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest));
    }

    public IReadOnlyList<TestBlob> Layers { get; }

    public TestBlob Config { get; }

    public string MediaType { get; }

    public byte[] Manifest { get; }

    public string Digest { get; }

    public long Bytes => Config.Size + Layers.Sum(l => l.Size);

    public IEnumerable<TestBlob> Blobs => Layers.Prepend(Config);

    public static TestCache Create(DateTimeOffset createdAt, int[] layerSizes, int seed, bool index = false, bool annotate = true, IEnumerable<TestBlob>? shared = null)
    {
        var layers = (shared ?? []).Concat(layerSizes.Select((size, i) => TestBlob.Layer(size, seed * 1000 + i, annotate ? createdAt : null))).ToList();
        var configJson = JsonSerializer.Serialize(new
        {
            layers = layers.Select(l => new { blob = l.Digest, parent = -1, annotations = new { mediaType = l.MediaType, size = l.Size, createdAt = TestBlob.Rfc3339(createdAt) } }),
            records = Array.Empty<object>(),
        });
        var config = new TestBlob(RegistryMediaTypes.BuildKitCacheConfig, Encoding.UTF8.GetBytes(configJson), new Dictionary<string, string>());
        object Descriptor(TestBlob b) => b.Annotations.Count == 0
            ? new { mediaType = b.MediaType, digest = b.Digest, size = b.Size }
            : new { mediaType = b.MediaType, digest = b.Digest, size = b.Size, annotations = b.Annotations };

        byte[] manifest;
        string mediaType;
        if (index)
        {
            mediaType = RegistryMediaTypes.OciIndex;
            manifest = JsonSerializer.SerializeToUtf8Bytes(new { schemaVersion = 2, mediaType, manifests = layers.Select(Descriptor).Append(Descriptor(config)) });
        }
        else
        {
            mediaType = RegistryMediaTypes.OciManifest;
            manifest = JsonSerializer.SerializeToUtf8Bytes(new { schemaVersion = 2, mediaType, config = Descriptor(config), layers = layers.Select(Descriptor) });
        }

        return new TestCache(layers, config, mediaType, manifest);
    }
}
