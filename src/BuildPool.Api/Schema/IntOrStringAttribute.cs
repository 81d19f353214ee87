namespace BuildPool.Api.Schema;

/// <summary>
/// The field accepts an integer or a string (<c>x-kubernetes-int-or-string: true</c>); the CLR
/// property is a string and clients must accept both on read.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class IntOrStringAttribute : Attribute;
