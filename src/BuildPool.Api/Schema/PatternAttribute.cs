namespace BuildPool.Api.Schema;

/// <summary>ECMA-262 regular expression a string field (or each item of a string list) must match.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class PatternAttribute(string pattern) : Attribute
{
    /// <summary>The regular expression.</summary>
    public string Pattern { get; } = pattern;
}
