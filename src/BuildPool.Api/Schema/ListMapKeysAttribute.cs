namespace BuildPool.Api.Schema;

/// <summary>
/// Makes a list of objects an <c>x-kubernetes-list-type: map</c> keyed by the given item fields,
/// so server-side apply merges items by key instead of replacing the whole list.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class ListMapKeysAttribute(params string[] keys) : Attribute
{
    /// <summary>The JSON names of the key fields.</summary>
    public IReadOnlyList<string> Keys { get; } = keys;
}
