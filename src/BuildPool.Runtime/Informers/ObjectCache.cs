using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Informers;

/// <summary>
/// The informer's thread-safe local copy of a collection, keyed by <c>namespace/name</c>, with
/// secondary indexes (by namespace, by owner UID, and any added with <see cref="AddIndexer"/>).
/// </summary>
/// <remarks>
/// Reads return the cached instances themselves, not copies: they are shared with every other
/// reader and with the informer, so callers must not mutate them. To build a modified object
/// (e.g. a status update), copy it first with <see cref="ObjectCopy.DeepCopy{T}"/>.
/// </remarks>
public sealed class ObjectCache<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<T, IEnumerable<string>>> _indexers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _indexes = new(StringComparer.Ordinal);

    public ObjectCache()
    {
        AddIndexer(CacheIndexes.Namespace, static obj => [obj.Metadata?.NamespaceProperty ?? string.Empty]);
        AddIndexer(CacheIndexes.Owner, static obj => obj.Metadata?.OwnerReferences?.Select(o => o.Uid).Where(uid => !string.IsNullOrEmpty(uid)) ?? []);
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Adds an index; existing objects are indexed at once. Index functions must be pure and fast: they run under the cache's lock.</summary>
    public void AddIndexer(string name, Func<T, IEnumerable<string>> indexer)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(indexer);
        lock (_gate)
        {
            if (!_indexers.TryAdd(name, indexer))
            {
                throw new InvalidOperationException($"An index named '{name}' exists already.");
            }

            var index = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            _indexes[name] = index;
            foreach (var (key, obj) in _items)
            {
                AddToIndex(index, indexer, key, obj);
            }
        }
    }

    public T? Get(string? @namespace, string name) => Get(ObjectKey.Of(@namespace, name));

    public T? Get(string key)
    {
        lock (_gate)
        {
            return _items.GetValueOrDefault(key);
        }
    }

    public IReadOnlyList<T> List()
    {
        lock (_gate)
        {
            return [.. _items.Values];
        }
    }

    public IReadOnlyList<T> ListInNamespace(string @namespace) => ByIndex(CacheIndexes.Namespace, @namespace);

    /// <summary>Objects with an owner reference to <paramref name="ownerUid"/>.</summary>
    public IReadOnlyList<T> ListOwnedBy(string ownerUid) => ByIndex(CacheIndexes.Owner, ownerUid);

    public IReadOnlyList<T> ByIndex(string indexName, string value)
    {
        lock (_gate)
        {
            if (!_indexes.TryGetValue(indexName, out var index))
            {
                throw new ArgumentException($"There is no index named '{indexName}'.", nameof(indexName));
            }

            return index.TryGetValue(value, out var keys) ? [.. keys.Select(k => _items[k])] : [];
        }
    }

    /// <summary>Stores <paramref name="obj"/> and returns the object it replaced, if any.</summary>
    internal T? Upsert(T obj)
    {
        var key = ObjectKey.Of(obj);
        lock (_gate)
        {
            var old = _items.GetValueOrDefault(key);
            if (old is not null)
            {
                RemoveFromIndexes(key, old);
            }

            _items[key] = obj;
            AddToIndexes(key, obj);
            return old;
        }
    }

    internal T? Remove(string key)
    {
        lock (_gate)
        {
            if (!_items.Remove(key, out var old))
            {
                return null;
            }

            RemoveFromIndexes(key, old);
            return old;
        }
    }

    /// <summary>
    /// Replaces the whole content with a fresh list and returns what changed, so the informer can
    /// tell its handlers about objects that were created, changed or deleted while it was not watching.
    /// Objects whose resourceVersion did not change are not reported.
    /// </summary>
    internal CacheDiff<T> Replace(IEnumerable<T> items)
    {
        var diff = new CacheDiff<T>();
        lock (_gate)
        {
            var fresh = new Dictionary<string, T>(StringComparer.Ordinal);
            foreach (var item in items)
            {
                fresh[ObjectKey.Of(item)] = item;
            }

            foreach (var (key, old) in _items.ToArray())
            {
                if (!fresh.ContainsKey(key))
                {
                    _items.Remove(key);
                    RemoveFromIndexes(key, old);
                    diff.Deleted.Add(old);
                }
            }

            foreach (var (key, obj) in fresh)
            {
                if (_items.TryGetValue(key, out var old))
                {
                    RemoveFromIndexes(key, old);
                    if (!string.Equals(old.Metadata?.ResourceVersion, obj.Metadata?.ResourceVersion, StringComparison.Ordinal))
                    {
                        diff.Updated.Add((old, obj));
                    }
                }
                else
                {
                    diff.Added.Add(obj);
                }

                _items[key] = obj;
                AddToIndexes(key, obj);
            }
        }

        return diff;
    }

    private void AddToIndexes(string key, T obj)
    {
        foreach (var (name, indexer) in _indexers)
        {
            AddToIndex(_indexes[name], indexer, key, obj);
        }
    }

    private void RemoveFromIndexes(string key, T obj)
    {
        foreach (var (name, indexer) in _indexers)
        {
            var index = _indexes[name];
            foreach (var value in indexer(obj))
            {
                if (index.TryGetValue(value, out var keys) && keys.Remove(key) && keys.Count == 0)
                {
                    index.Remove(value);
                }
            }
        }
    }

    private static void AddToIndex(Dictionary<string, HashSet<string>> index, Func<T, IEnumerable<string>> indexer, string key, T obj)
    {
        foreach (var value in indexer(obj))
        {
            if (!index.TryGetValue(value, out var keys))
            {
                keys = new HashSet<string>(StringComparer.Ordinal);
                index[value] = keys;
            }

            keys.Add(key);
        }
    }
}
