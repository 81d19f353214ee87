namespace BuildPool.Api.Schema;

/// <summary>Inclusive upper bound of a numeric field.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class MaximumAttribute(double value) : Attribute
{
    /// <summary>The largest allowed value.</summary>
    public double Value { get; } = value;
}
