using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Controllers;

/// <summary>
/// Which object to reconcile: only its name, never its content. The reconciler reads the current
/// state from the cache, so many events for one object collapse into one reconcile.
/// </summary>
public readonly record struct ReconcileRequest(string? Namespace, string Name)
{
    public static ReconcileRequest For(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return new ReconcileRequest(obj.Metadata?.NamespaceProperty, obj.Metadata?.Name ?? throw new ArgumentException("The object has no name.", nameof(obj)));
    }

    /// <summary>The cache key, <c>namespace/name</c>.</summary>
    public override string ToString() => string.IsNullOrEmpty(Namespace) ? Name : $"{Namespace}/{Name}";
}
