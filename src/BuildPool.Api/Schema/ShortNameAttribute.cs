namespace BuildPool.Api.Schema;

/// <summary>A short name for <c>kubectl get</c> (<c>kubectl get bp</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class ShortNameAttribute(string name) : Attribute
{
    /// <summary>The short name, lowercase.</summary>
    public string Name { get; } = name;
}
