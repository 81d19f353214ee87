using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Informers;

/// <summary>The API access an <see cref="Informer{T}"/> needs, small enough to fake in tests.</summary>
public interface IListWatcher<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    Task<ListResult<T>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Streams changes after <paramref name="resourceVersion"/>, with bookmarks. Ends when the server
    /// closes the watch. A resourceVersion that is too old surfaces either as a
    /// <see cref="Client.KubernetesApiException"/> with status 410 or as an Error event whose status
    /// code is 410; either way the informer lists again.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, CancellationToken cancellationToken);
}
