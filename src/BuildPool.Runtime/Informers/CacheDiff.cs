namespace BuildPool.Runtime.Informers;

/// <summary>What a re-list changed in an <see cref="ObjectCache{T}"/>.</summary>
internal sealed class CacheDiff<T>
{
    public List<T> Added { get; } = [];

    public List<(T Old, T New)> Updated { get; } = [];

    public List<T> Deleted { get; } = [];
}
