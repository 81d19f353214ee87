namespace BuildPool.Api.Schema;

/// <summary>The field must be present; it is listed in its parent's <c>required</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class RequiredAttribute : Attribute;
