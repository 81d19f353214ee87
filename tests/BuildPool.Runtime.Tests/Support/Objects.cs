using k8s.Models;

namespace BuildPool.Runtime.Tests.Support;

internal static class Objects
{
    public static V1ConfigMap ConfigMap(string name, string resourceVersion, string ns = "default", string? uid = null, long generation = 1, params V1OwnerReference[] owners) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            ResourceVersion = resourceVersion,
            Uid = uid ?? $"uid-{ns}-{name}",
            Generation = generation,
            OwnerReferences = owners.Length == 0 ? null : owners.ToList(),
        },
    };

    public static V1Secret Secret(string name, string resourceVersion, string ns = "default", params V1OwnerReference[] owners) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            ResourceVersion = resourceVersion,
            Uid = $"uid-secret-{ns}-{name}",
            OwnerReferences = owners.Length == 0 ? null : owners.ToList(),
        },
    };

    public static V1OwnerReference ControllerRef(string kind, string name, string apiVersion = "v1", bool controller = true) => new()
    {
        ApiVersion = apiVersion,
        Kind = kind,
        Name = name,
        Uid = $"uid-default-{name}",
        Controller = controller,
    };

    /// <summary>What a BOOKMARK event carries: only a resourceVersion.</summary>
    public static V1ConfigMap Bookmark(string resourceVersion) => new() { Metadata = new V1ObjectMeta { ResourceVersion = resourceVersion } };
}
