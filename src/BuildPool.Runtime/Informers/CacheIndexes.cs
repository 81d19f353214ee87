namespace BuildPool.Runtime.Informers;

/// <summary>Names of the indexes every <see cref="ObjectCache{T}"/> maintains.</summary>
public static class CacheIndexes
{
    /// <summary>Index value: <c>metadata.namespace</c> (empty for cluster-scoped objects).</summary>
    public const string Namespace = "namespace";

    /// <summary>Index value: the UID of each entry in <c>metadata.ownerReferences</c>, controller or not.</summary>
    public const string Owner = "owner";
}
