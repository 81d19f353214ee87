using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Hosting;

/// <summary>
/// The user Secrets that pools and bindings name, read one by one. Such Secrets carry no label of
/// BuildPool's, and a list or watch cannot select several Secrets by name, so watching them any
/// other way means holding every Secret of the namespace (ServiceAccount tokens, other teams'
/// credentials) in memory. This feeds an <see cref="Informer{T}"/>: its list GETs each referenced
/// Secret; its watch GETs them again whenever a pool or binding changes what it names and every
/// refresh interval, and reports what changed as watch events, so a rotated Secret still rolls
/// the builders (within one interval). A Secret nothing names any more leaves the cache.
/// </summary>
public sealed class ReferencedSecretWatcher : IListWatcher<V1Secret>
{
    private readonly ResourceClient<V1Secret> _client;
    private readonly Func<IEnumerable<(string? Namespace, string Name)>> _references;
    private readonly Func<CancellationToken, Task> _referencesSynced;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // What the last reads found; reconciles read it between refreshes.
    private readonly ConcurrentDictionary<string, V1Secret> _latest = new(StringComparer.Ordinal);

    // What the informer has been told; only the list and watch loop touches it.
    private readonly Dictionary<string, V1Secret> _published = new(StringComparer.Ordinal);

    /// <param name="client">Reads Secrets by name.</param>
    /// <param name="references">Every Secret a pool or binding names, from their caches.</param>
    /// <param name="referencesSynced">Completes once those caches have listed, so the first list misses no reference.</param>
    /// <param name="interval">How often every referenced Secret is read again.</param>
    /// <param name="time">The clock of the refresh interval.</param>
    public ReferencedSecretWatcher(
        ResourceClient<V1Secret> client,
        Func<IEnumerable<(string? Namespace, string Name)>> references,
        Func<CancellationToken, Task> referencesSynced,
        TimeSpan interval,
        TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(referencesSynced);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _client = client;
        _references = references;
        _referencesSynced = referencesSynced;
        _interval = interval;
        _time = time;
    }

    /// <summary>The Secret as the last read found it, or null (missing, or named by nothing).</summary>
    public V1Secret? Latest(string? @namespace, string name) => _latest.GetValueOrDefault(ObjectKey.Of(@namespace, name));

    /// <summary>A pool or binding may name other Secrets now: read them soon.</summary>
    public void ReferencesChanged() => _wake.Writer.TryWrite(true);

    /// <summary>
    /// The Secret, read now if no read has found it yet: a reconcile that has just seen a new
    /// reference must not report the Secret missing because the refresh has not run yet.
    /// </summary>
    public async Task<V1Secret?> LoadAsync(string? @namespace, string name, CancellationToken cancellationToken)
    {
        var key = ObjectKey.Of(@namespace, name);
        if (_latest.TryGetValue(key, out var known))
        {
            return known;
        }

        var secret = await _client.GetAsync(@namespace, name, cancellationToken).ConfigureAwait(false);
        if (secret is not null)
        {
            _latest[key] = secret;
            ReferencesChanged();
        }

        return secret;
    }

    public async Task<ListResult<V1Secret>> ListAsync(CancellationToken cancellationToken)
    {
        await _referencesSynced(cancellationToken).ConfigureAwait(false);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        _published.Clear();
        foreach (var (key, secret) in _latest)
        {
            _published[key] = secret;
        }

        // No collection resourceVersion exists for a set of GETs; the watch below ignores it.
        return new ListResult<V1Secret>([.. _published.Values], string.Empty);
    }

    public async IAsyncEnumerable<WatchEvent<V1Secret>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            // Reported before waiting: a LoadAsync may have found something since the last round.
            foreach (var change in Changes())
            {
                yield return change;
            }

            await WaitAsync(cancellationToken).ConfigureAwait(false);
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_interval, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await _wake.Reader.ReadAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The interval passed: read everything again.
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var wanted = new Dictionary<string, (string? Namespace, string Name)>(StringComparer.Ordinal);
        foreach (var reference in _references())
        {
            wanted.TryAdd(ObjectKey.Of(reference.Namespace, reference.Name), reference);
        }

        foreach (var key in _latest.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
        {
            _latest.TryRemove(key, out _);
        }

        foreach (var (key, (ns, name)) in wanted)
        {
            if (await _client.GetAsync(ns, name, cancellationToken).ConfigureAwait(false) is { } secret)
            {
                _latest[key] = secret;
            }
            else
            {
                _latest.TryRemove(key, out _);
            }
        }
    }

    private List<WatchEvent<V1Secret>> Changes()
    {
        var changes = new List<WatchEvent<V1Secret>>();
        foreach (var (key, secret) in _latest)
        {
            if (!_published.TryGetValue(key, out var told))
            {
                changes.Add(new WatchEvent<V1Secret>(WatchEventType.Added, secret));
            }
            else if (told.Metadata.ResourceVersion != secret.Metadata.ResourceVersion)
            {
                changes.Add(new WatchEvent<V1Secret>(WatchEventType.Modified, secret));
            }

            _published[key] = secret;
        }

        foreach (var key in _published.Keys.Where(k => !_latest.ContainsKey(k)).ToList())
        {
            changes.Add(new WatchEvent<V1Secret>(WatchEventType.Deleted, _published[key]));
            _published.Remove(key);
        }

        return changes;
    }
}
