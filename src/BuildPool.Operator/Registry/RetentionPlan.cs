namespace BuildPool.Operator.Registry;

/// <summary>
/// The outcome of <see cref="RetentionPlanner.Plan"/>: tags to delete oldest first, tags kept,
/// tags a limit chose but that share their manifest with a kept tag, and the byte counts.
/// </summary>
public sealed record RetentionPlan(
    IReadOnlyList<RetentionDecision> Delete,
    IReadOnlyList<CacheTag> Keep,
    IReadOnlyList<RetentionDecision> Spared,
    long BytesBefore,
    long BytesAfter)
{
    /// <summary>Bytes no remaining cache references; the registry reclaims them when it collects blobs.</summary>
    public long FreedBytes => BytesBefore - BytesAfter;

    /// <summary>Manifests to delete, one per (repository, digest): deleting one removes all of its tags.</summary>
    public IReadOnlyList<(string Repository, string Digest)> Manifests =>
        Delete.Select(d => (d.Tag.Repository, d.Tag.Digest)).Distinct().ToList();
}
