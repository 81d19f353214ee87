using BuildPool.Operator.Naming;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Children;

/// <summary>
/// Creates a child or brings it in line with the desired object, judged by the spec-hash
/// annotation alone: an unchanged hash means no write, whatever the server defaulted.
/// Reads come from the informer cache; a create that races a stale cache reads the live object.
/// </summary>
public sealed class ChildWriter<T>(ResourceClient<T> client, ObjectCache<T> cache)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    public ObjectCache<T> Cache => cache;

    public ResourceClient<T> Client => client;

    public async Task<T> ApplyAsync(T desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var hash = SpecHash.Stamp(desired);
        var existing = cache.Get(desired.Metadata.NamespaceProperty, desired.Metadata.Name);
        if (existing is null)
        {
            try
            {
                return await client.CreateAsync(desired, cancellationToken);
            }
            catch (ConflictException ex) when (ex.IsAlreadyExists)
            {
                existing = await client.GetAsync(desired.Metadata.NamespaceProperty, desired.Metadata.Name, cancellationToken)
                    ?? throw new ConflictException($"{desired.Kind} {desired.Metadata.Name} was deleted while being created; retrying", ex);
            }
        }

        if (SpecHash.Read(existing) == hash)
        {
            return existing;
        }

        EnsureOwnedAlike(existing, desired);
        desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
        // Keep what others put on the object's metadata (revision annotations, tooling labels).
        desired.Metadata.Annotations = Merge(existing.Metadata.Annotations, desired.Metadata.Annotations);
        desired.Metadata.Labels = Merge(existing.Metadata.Labels, desired.Metadata.Labels);
        desired.Metadata.Finalizers ??= existing.Metadata.Finalizers;
        return await client.ReplaceAsync(desired, cancellationToken);
    }

    public Task<bool> DeleteAsync(T existing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(existing);
        return client.DeleteAsync(existing.Metadata.NamespaceProperty, existing.Metadata.Name, cancellationToken);
    }

    /// <summary>
    /// Refuses to take over an object someone else created under the same name: silently
    /// overwriting a user's Deployment would be worse than a Stalled pool that says why.
    /// </summary>
    private static void EnsureOwnedAlike(T existing, T desired)
    {
        var wanted = desired.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        if (wanted is null)
        {
            return;
        }

        var actual = existing.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        var managed = existing.Metadata.Labels?.TryGetValue(WellKnown.ManagedByLabel, out var by) == true && by == WellKnown.ManagedByValue;
        if (actual is null && !managed)
        {
            throw new ChildConflictException($"{existing.Kind ?? typeof(T).Name} {existing.Metadata.NamespaceProperty}/{existing.Metadata.Name} already exists and is not managed by BuildPool");
        }

        if (actual is not null && actual.Uid != wanted.Uid)
        {
            throw new ChildConflictException($"{existing.Kind ?? typeof(T).Name} {existing.Metadata.NamespaceProperty}/{existing.Metadata.Name} belongs to {actual.Kind} {actual.Name}");
        }
    }

    private static Dictionary<string, string>? Merge(IDictionary<string, string>? existing, IDictionary<string, string>? desired)
    {
        if (existing is null && desired is null)
        {
            return null;
        }

        var merged = new Dictionary<string, string>(existing ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (k, v) in desired ?? new Dictionary<string, string>())
        {
            merged[k] = v;
        }

        return merged;
    }
}
