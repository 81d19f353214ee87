namespace BuildPool.Api.Schema;

/// <summary>Minimum length of a string field.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class MinLengthAttribute(int length) : Attribute
{
    /// <summary>The smallest allowed number of characters.</summary>
    public int Length { get; } = length;
}
