namespace BuildPool.Operator.Registry;

/// <summary>
/// One cache tag as retention sees it: the manifest it points at, when it was written (null when
/// nothing in the manifest, its config or the registry says), and the blobs it holds.
/// </summary>
public sealed record CacheTag(string Repository, string Tag, string Digest, DateTimeOffset? CreatedAt, IReadOnlyList<RegistryBlob> Blobs)
{
    /// <summary>Sum of the blob sizes (layers and config).</summary>
    public long Bytes => Blobs.Sum(b => b.Size);

    public string Reference => $"{Repository}:{Tag}";

    /// <summary>Bytes of the distinct blobs of the tags: blobs shared by several caches count once.</summary>
    public static long DistinctBytes(IEnumerable<CacheTag> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var tag in tags)
        {
            foreach (var blob in tag.Blobs)
            {
                // A registry stores a blob once however many manifests or repositories link it,
                // so deleting one cache frees only what no other cache references.
                if (seen.Add(blob.Digest))
                {
                    total += blob.Size;
                }
            }
        }

        return total;
    }
}
