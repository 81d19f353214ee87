namespace BuildPool.Api.Schema;

/// <summary>
/// <c>x-kubernetes-list-type</c> of a list field: <c>atomic</c>, <c>set</c> or <c>map</c>
/// (with <see cref="ListMapKeysAttribute"/>). Decides how server-side apply merges the list.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class ListTypeAttribute(string listType) : Attribute
{
    /// <summary>The list type.</summary>
    public string ListType { get; } = listType;
}
