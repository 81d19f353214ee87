namespace BuildPool.Api.Schema;

/// <summary>
/// Server-side default of a CRD field, as a JSON literal (<c>"\"30m\""</c>, <c>"4"</c>, <c>"{}"</c>).
/// A JSON literal rather than a CLR value so lists and objects can be defaulted too.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class DefaultAttribute(string json) : Attribute
{
    /// <summary>The default value as JSON text.</summary>
    public string Json { get; } = json;
}
