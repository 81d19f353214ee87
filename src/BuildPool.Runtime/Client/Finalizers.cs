using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Client;

/// <summary>
/// Adds and removes one finalizer, as controller-runtime's <c>controllerutil</c> does. The merge
/// patch carries the object's resourceVersion and the whole finalizer list: a read that is stale
/// fails with a conflict (the reconcile is retried) instead of dropping a finalizer someone else
/// added meanwhile.
/// </summary>
public static class Finalizers
{
    public static bool Has(IKubernetesObject<V1ObjectMeta> obj, string finalizer)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return obj.Metadata.Finalizers?.Contains(finalizer) == true;
    }

    /// <summary>The object as written with <paramref name="finalizer"/>; no write when it has it already.</summary>
    public static async Task<T> AddFinalizerAsync<T>(this ResourceClient<T> client, T obj, string finalizer, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        if (Has(obj, finalizer))
        {
            return obj;
        }

        return await WriteAsync(client, obj, [.. obj.Metadata.Finalizers ?? [], finalizer], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The object as written without <paramref name="finalizer"/>; no write when it does not have it.
    /// An object that no longer exists counts as done (404 is success, not an error to retry).
    /// </summary>
    public static async Task<T> RemoveFinalizerAsync<T>(this ResourceClient<T> client, T obj, string finalizer, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(client);
        if (!Has(obj, finalizer))
        {
            return obj;
        }

        try
        {
            return await WriteAsync(client, obj, [.. obj.Metadata.Finalizers!.Where(f => f != finalizer)], cancellationToken).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            // Gone already (its last finalizer was removed, or our cache lagged a deletion): what removing ours was for.
            return obj;
        }
    }

    private static Task<T> WriteAsync<T>(ResourceClient<T> client, T obj, List<string> finalizers, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        client.PatchAsync(obj.Metadata.NamespaceProperty, obj.Metadata.Name,
            new { metadata = new { finalizers, resourceVersion = obj.Metadata.ResourceVersion } }, cancellationToken);
}
