namespace BuildPool.Api.Schema;

/// <summary>Inclusive lower bound of a numeric field.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class MinimumAttribute(double value) : Attribute
{
    /// <summary>The smallest allowed value.</summary>
    public double Value { get; } = value;
}
