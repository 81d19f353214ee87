namespace BuildPool.Api.Schema;

/// <summary>Maximum length of a string field (or of each item of a string list).</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class MaxLengthAttribute(int length) : Attribute
{
    /// <summary>The largest allowed number of characters.</summary>
    public int Length { get; } = length;
}
