namespace BuildPool.Operator.Registry;

/// <summary>
/// The cache tags found under a <see cref="CacheRef"/>. <see cref="Listed"/> is false when the
/// tags could not be enumerated (a {key} repository on a registry without a usable catalog):
/// the registry answered, but retention cannot run.
/// </summary>
public sealed record CacheInventory(IReadOnlyList<CacheTag> Tags, bool Listed, string? NotListedReason = null)
{
    public long Bytes => CacheTag.DistinctBytes(Tags);
}
