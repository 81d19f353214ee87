namespace BuildPool.Api.Schema;

/// <summary>Minimum number of items of a list field.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class MinItemsAttribute(int count) : Attribute
{
    /// <summary>The smallest allowed number of items.</summary>
    public int Count { get; } = count;
}
