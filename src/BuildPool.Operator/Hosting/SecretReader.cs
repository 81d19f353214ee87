using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using k8s.Models;

namespace BuildPool.Operator.Hosting;

/// <summary>
/// Every Secret the operator reads goes through here. Two caches answer: the informer of the
/// Secrets the operator owns (selected by its managed-by label), and the user Secrets that pools
/// and bindings name, read by name (<see cref="ReferencedSecretWatcher"/>). No other Secret is
/// ever read into memory. A Secret arriving in either enqueues whoever named it, so a reconcile
/// never needs to ask the API whether one exists. The API is asked directly only where the
/// caches cannot know: a Secret the operator wrote a moment ago, one in a namespace it does not
/// watch (a tenant's, for a ClientAccess binding), and a reference too new to have been read.
/// </summary>
public sealed class SecretReader(ObjectCache<V1Secret> owned, ReferencedSecretWatcher referenced, ResourceClient<V1Secret> client)
{
    /// <summary>The Secret as the caches hold it, or null.</summary>
    public V1Secret? Cached(string? @namespace, string name) => owned.Get(@namespace, name) ?? referenced.Latest(@namespace, name);

    /// <summary>
    /// The cached Secret, or else the live one: for Secrets the operator itself writes (issuing a
    /// second CA because the cache lags would invalidate every certificate of the first) and for
    /// namespaces outside the watch.
    /// </summary>
    public async Task<V1Secret?> ReadThroughAsync(string? @namespace, string name, CancellationToken cancellationToken) =>
        Cached(@namespace, name) ?? await client.GetAsync(@namespace, name, cancellationToken);

    /// <summary>
    /// Reads now the named Secrets no read has found yet, so that <see cref="Cached"/> answers for
    /// them: a reference a pool or binding has just gained is not reported missing while the
    /// referenced Secrets' refresh catches up.
    /// </summary>
    public async Task LoadAsync(string? @namespace, IEnumerable<string> names, CancellationToken cancellationToken)
    {
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (Cached(@namespace, name) is null)
            {
                await referenced.LoadAsync(@namespace, name, cancellationToken);
            }
        }
    }
}
