namespace BuildPool.Api.Schema;

/// <summary>
/// A CEL rule (<c>x-kubernetes-validations</c>) on an object type or a property, for checks
/// a plain schema cannot express, such as "this field is required when kind is X".
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Property, AllowMultiple = true)]
public sealed class ValidationRuleAttribute(string rule, string message) : Attribute
{
    /// <summary>The CEL expression; <c>self</c> is the value it is attached to.</summary>
    public string Rule { get; } = rule;

    /// <summary>The error the API server returns when the rule is false; it names the field.</summary>
    public string Message { get; } = message;
}
