using System.Reflection;
using k8s.Models;

namespace BuildPool.Runtime.Client;

/// <summary>
/// Where a kind lives in the API, read from the <see cref="KubernetesEntityAttribute"/> that both
/// the client's built-in models and our CRD types carry.
/// </summary>
public sealed record ResourceDescriptor(string Group, string Version, string Kind, string Plural)
{
    /// <summary><c>v1</c> for the core group, <c>group/version</c> otherwise, as in <c>apiVersion</c>.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public static ResourceDescriptor For<T>() => Cache<T>.Value;

    public static ResourceDescriptor For(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var entity = type.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{type} has no [KubernetesEntity] attribute.", nameof(type));
        if (string.IsNullOrEmpty(entity.ApiVersion) || string.IsNullOrEmpty(entity.PluralName) || string.IsNullOrEmpty(entity.Kind))
        {
            throw new ArgumentException($"[KubernetesEntity] on {type} must name ApiVersion, Kind and PluralName.", nameof(type));
        }

        return new ResourceDescriptor(entity.Group ?? string.Empty, entity.ApiVersion, entity.Kind, entity.PluralName);
    }

    /// <summary>The collection path, e.g. <c>/api/v1/namespaces/ns/pods</c> or <c>/apis/g/v/plural</c> (all namespaces).</summary>
    public string CollectionPath(string? @namespace)
    {
        var root = Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";
        return string.IsNullOrEmpty(@namespace)
            ? $"{root}/{Plural}"
            : $"{root}/namespaces/{Uri.EscapeDataString(@namespace)}/{Plural}";
    }

    public string ObjectPath(string? @namespace, string name) =>
        $"{CollectionPath(@namespace)}/{Uri.EscapeDataString(name)}";

    /// <summary>
    /// Whether <paramref name="apiVersion"/> names this kind's group. Versions are ignored, as in
    /// controller-runtime: an owner reference written under v1alpha1 still points at the object.
    /// </summary>
    public bool IsSameGroup(string? apiVersion)
    {
        if (string.IsNullOrEmpty(apiVersion))
        {
            return false;
        }

        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : apiVersion[..slash];
        return string.Equals(group, Group, StringComparison.Ordinal);
    }

    private static class Cache<T>
    {
        public static readonly ResourceDescriptor Value = For(typeof(T));
    }
}
