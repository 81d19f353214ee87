using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Informers;

/// <summary>Cache keys: <c>namespace/name</c>, or just <c>name</c> for cluster-scoped objects (client-go's MetaNamespaceKeyFunc).</summary>
public static class ObjectKey
{
    public static string Of(string? @namespace, string name) =>
        string.IsNullOrEmpty(@namespace) ? name : $"{@namespace}/{name}";

    public static string Of(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var metadata = obj.Metadata ?? throw new ArgumentException("The object has no metadata.", nameof(obj));
        return Of(metadata.NamespaceProperty, metadata.Name);
    }
}
