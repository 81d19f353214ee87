namespace BuildPool.Api.Schema;

/// <summary>Maximum number of items of a list field; bounds CEL cost and object size.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class MaxItemsAttribute(int count) : Attribute
{
    /// <summary>The largest allowed number of items.</summary>
    public int Count { get; } = count;
}
