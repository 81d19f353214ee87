namespace BuildPool.Api.Schema;

/// <summary>Categories the kind belongs to (<c>kubectl get buildpool</c> lists them all).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class CategoriesAttribute(params string[] categories) : Attribute
{
    /// <summary>The category names.</summary>
    public IReadOnlyList<string> Categories { get; } = categories;
}
