using System.Net;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Runtime.Informers;

/// <summary>
/// Keeps an <see cref="ObjectCache{T}"/> in step with the API: lists, then watches from the list's
/// resourceVersion with bookmarks, resumes from the last resourceVersion seen when a watch ends or
/// drops (with backoff on failures), and lists again on 410 Gone, telling handlers what changed
/// meanwhile, including deletions.
/// </summary>
public sealed partial class Informer<T> : IInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IListWatcher<T> _listWatcher;
    private readonly TimeProvider _time;
    private readonly InformerOptions _options;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _dispatchGate = new();
    private IResourceEventHandler<T>[] _handlers = [];
    private volatile string? _lastResourceVersion;
    private int _started;

    public Informer(IListWatcher<T> listWatcher, TimeProvider time, ILoggerFactory? loggerFactory = null, InformerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(listWatcher);
        ArgumentNullException.ThrowIfNull(time);
        _listWatcher = listWatcher;
        _time = time;
        _options = options ?? new InformerOptions();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Informer<T>>();
        Name = _options.Name ?? typeof(T).Name;
    }

    public string Name { get; }

    public ObjectCache<T> Cache { get; } = new();

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion the next watch would resume from (from the last list, event or bookmark).</summary>
    public string? LastResourceVersion => _lastResourceVersion;

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Subscribes a handler. Objects already in the cache are replayed to it as adds first, so a
    /// handler added late misses nothing.
    /// </summary>
    public void AddEventHandler(IResourceEventHandler<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_dispatchGate)
        {
            _handlers = [.. _handlers, handler];
            foreach (var obj in Cache.List())
            {
                Invoke(handler, h => h.OnAdd(obj));
            }
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"Informer {Name} is already running.");
        }

        var backoff = _options.InitialBackoff;
        var needList = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    await ListAsync(cancellationToken).ConfigureAwait(false);
                    needList = false;
                }

                var outcome = await WatchAsync(cancellationToken).ConfigureAwait(false);
                if (outcome == WatchOutcome.Gone)
                {
                    needList = true;
                    continue;
                }

                if (outcome == WatchOutcome.Healthy)
                {
                    backoff = _options.InitialBackoff;
                    continue;
                }

                Log.WatchEndedEarly(_logger, Name, _lastResourceVersion, backoff);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (ApiErrors.IsGone(e))
            {
                Log.ResourceVersionGone(_logger, Name, _lastResourceVersion);
                needList = true;
                continue;
            }
            catch (Exception e)
            {
                // Anything else (network, 5xx, a broken stream) is transient from here: retry with
                // backoff, resuming from the last resourceVersion if we have listed already.
                Log.ListWatchFailed(_logger, e, Name, needList ? "list" : "watch", backoff);
            }

            try
            {
                await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
        }
    }

    private async Task ListAsync(CancellationToken cancellationToken)
    {
        var list = await _listWatcher.ListAsync(cancellationToken).ConfigureAwait(false);
        lock (_dispatchGate)
        {
            var diff = Cache.Replace(list.Items);
            foreach (var obj in diff.Deleted)
            {
                Dispatch(h => h.OnDelete(obj));
            }

            foreach (var (oldObj, newObj) in diff.Updated)
            {
                Dispatch(h => h.OnUpdate(oldObj, newObj));
            }

            foreach (var obj in diff.Added)
            {
                Dispatch(h => h.OnAdd(obj));
            }

            Log.Listed(_logger, Name, list.Items.Count, list.ResourceVersion, diff.Added.Count, diff.Updated.Count, diff.Deleted.Count);
        }

        _lastResourceVersion = list.ResourceVersion;
        _synced.TrySetResult();
    }

    private async Task<WatchOutcome> WatchAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var sawEvents = false;
        var from = _lastResourceVersion ?? string.Empty;
        await foreach (var watchEvent in _listWatcher.WatchAsync(from, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            sawEvents = true;
            switch (watchEvent.Type)
            {
                case WatchEventType.Added:
                case WatchEventType.Modified:
                    Apply(watchEvent.Object!);
                    break;
                case WatchEventType.Deleted:
                    Delete(watchEvent.Object!);
                    break;
                case WatchEventType.Bookmark:
                    // A bookmark carries only a resourceVersion: nothing changed up to it, and a
                    // watch resumed from it will not replay older events.
                    TrackResourceVersion(watchEvent.Object);
                    break;
                case WatchEventType.Error:
                    var code = watchEvent.Status?.Code;
                    if (code == (int)HttpStatusCode.Gone)
                    {
                        Log.ResourceVersionGone(_logger, Name, _lastResourceVersion);
                        return WatchOutcome.Gone;
                    }

                    throw new KubernetesApiException(
                        (HttpStatusCode)(code ?? 500),
                        watchEvent.Status,
                        $"watch {Name} failed: {watchEvent.Status?.Reason}: {watchEvent.Status?.Message}");
                default:
                    throw new InvalidOperationException($"Unexpected watch event type {watchEvent.Type}.");
            }
        }

        return sawEvents || _time.GetElapsedTime(started) >= _options.MinHealthyWatch ? WatchOutcome.Healthy : WatchOutcome.EndedEarly;
    }

    private void Apply(T obj)
    {
        lock (_dispatchGate)
        {
            var old = Cache.Upsert(obj);
            if (old is null)
            {
                Dispatch(h => h.OnAdd(obj));
            }
            else
            {
                Dispatch(h => h.OnUpdate(old, obj));
            }
        }

        TrackResourceVersion(obj);
    }

    private void Delete(T obj)
    {
        lock (_dispatchGate)
        {
            var old = Cache.Remove(ObjectKey.Of(obj));
            Dispatch(h => h.OnDelete(old ?? obj));
        }

        TrackResourceVersion(obj);
    }

    private void TrackResourceVersion(T? obj)
    {
        var resourceVersion = obj?.Metadata?.ResourceVersion;
        if (!string.IsNullOrEmpty(resourceVersion))
        {
            _lastResourceVersion = resourceVersion;
        }
    }

    private void Dispatch(Action<IResourceEventHandler<T>> notify)
    {
        foreach (var handler in _handlers)
        {
            Invoke(handler, notify);
        }
    }

    private void Invoke(IResourceEventHandler<T> handler, Action<IResourceEventHandler<T>> notify)
    {
        try
        {
            notify(handler);
        }
#pragma warning disable CA1031 // A faulty handler must not stop the cache from following the API for everyone else.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, e, Name);
        }
    }

    private enum WatchOutcome
    {
        Healthy,
        EndedEarly,
        Gone,
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Informer {Informer} listed {Count} objects at resourceVersion {ResourceVersion} ({Added} added, {Updated} updated, {Deleted} deleted)")]
        public static partial void Listed(ILogger logger, string informer, int count, string resourceVersion, int added, int updated, int deleted);

        [LoggerMessage(2, LogLevel.Information, "Informer {Informer}: resourceVersion {ResourceVersion} is gone (410), listing again")]
        public static partial void ResourceVersionGone(ILogger logger, string informer, string? resourceVersion);

        [LoggerMessage(3, LogLevel.Warning, "Informer {Informer}: {Operation} failed, retrying in {Backoff}")]
        public static partial void ListWatchFailed(ILogger logger, Exception exception, string informer, string operation, TimeSpan backoff);

        [LoggerMessage(4, LogLevel.Debug, "Informer {Informer}: watch from {ResourceVersion} ended early without events, retrying in {Backoff}")]
        public static partial void WatchEndedEarly(ILogger logger, string informer, string? resourceVersion, TimeSpan backoff);

        [LoggerMessage(5, LogLevel.Error, "Informer {Informer}: an event handler failed")]
        public static partial void HandlerFailed(ILogger logger, Exception exception, string informer);
    }
}
