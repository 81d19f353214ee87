using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using k8s.Models;

namespace BuildPool.Operator.Hosting;

/// <summary>
/// Every Secret the operator reads goes through here. The informer cache answers, and a Secret
/// arriving there enqueues whoever named it, so a reconcile never needs to ask the API whether
/// one exists. The API is asked only where the cache cannot know: a Secret the operator wrote a
/// moment ago, and one in a namespace it does not watch (a tenant's, for a ClientAccess binding).
/// Narrowing what the Secret informer holds changes this class, not its callers.
/// </summary>
public sealed class SecretReader(ObjectCache<V1Secret> cache, ResourceClient<V1Secret> client)
{
    /// <summary>The Secret as the informer cache holds it, or null.</summary>
    public V1Secret? Cached(string? @namespace, string name) => cache.Get(@namespace, name);

    /// <summary>
    /// The cached Secret, or else the live one: for Secrets the operator itself writes (issuing a
    /// second CA because the cache lags would invalidate every certificate of the first) and for
    /// namespaces outside the watch.
    /// </summary>
    public async Task<V1Secret?> ReadThroughAsync(string? @namespace, string name, CancellationToken cancellationToken) =>
        cache.Get(@namespace, name) ?? await client.GetAsync(@namespace, name, cancellationToken);
}
