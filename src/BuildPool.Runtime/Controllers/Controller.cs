using System.Diagnostics;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Hosting;
using BuildPool.Runtime.Informers;
using BuildPool.Runtime.Metrics;
using BuildPool.Runtime.Queues;
using BuildPool.Runtime.Rate;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Runtime.Controllers;

/// <summary>
/// Runs an <see cref="IReconciler{T}"/> for one kind: events of the primary informer and of owned
/// children become keys in a rate-limited queue, and workers reconcile them, one worker per key at a
/// time, retrying failures with backoff.
/// </summary>
/// <remarks>
/// A controller runs once: its queue is shut down when <see cref="RunAsync"/> ends. Register
/// <see cref="Owns{TChild}"/> and <see cref="Watches{TOther}"/> before running it.
/// </remarks>
public sealed partial class Controller<T> : IRunnable, IDisposable
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly Func<ILogger, string, string?, string, long?, IDisposable?> ReconcileScope =
        LoggerMessage.DefineScope<string, string?, string, long?>("{Kind} {Namespace}/{Name} gen {Generation}");

    private readonly ControllerOptions _options;
    private readonly Informer<T> _primary;
    private readonly IReconciler<T> _reconciler;
    private readonly TimeProvider _time;
    private readonly RuntimeMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly ResourceDescriptor _resource;
    private readonly List<IInformer> _informers;
    private readonly KeyValuePair<string, object?> _controllerTag;
    private int _started;

    public Controller(
        ControllerOptions options,
        Informer<T> primary,
        IReconciler<T> reconciler,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null,
        RuntimeMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(reconciler);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        _options = options;
        _primary = primary;
        _reconciler = reconciler;
        _time = time;
        _metrics = metrics;
        metrics?.TrackWorkers(options.Name, options.Workers);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Controller<T>>();
        _resource = ResourceDescriptor.For<T>();
        _controllerTag = new KeyValuePair<string, object?>("controller", options.Name);
        _informers = [primary];
        Queue = new RateLimitingQueue<ReconcileRequest>(
            options.Name, options.RateLimiter ?? RateLimiters.DefaultController<ReconcileRequest>(time), time, metrics);

        primary.AddEventHandler(new ResourceEventHandler<T>
        {
            Added = obj => Queue.Add(ReconcileRequest.For(obj)),
            Updated = (_, obj) => Queue.Add(ReconcileRequest.For(obj)),
            Deleted = obj => Queue.Add(ReconcileRequest.For(obj)),
        });
    }

    public string Name => _options.Name;

    /// <summary>The controller's queue; exposed so callers can enqueue keys from outside events (e.g. a gateway's request).</summary>
    public RateLimitingQueue<ReconcileRequest> Queue { get; }

    /// <summary>
    /// Reconciles the owner when a child changes: a child event enqueues the object named by its
    /// controller owner reference (<c>controller: true</c>) if that reference is to this kind.
    /// </summary>
    public Controller<T> Owns<TChild>(Informer<TChild> children)
        where TChild : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(children);
        _informers.Add(children);
        children.AddEventHandler(new ResourceEventHandler<TChild>
        {
            Added = EnqueueOwner,
            Updated = (oldChild, newChild) =>
            {
                // Both: if the owner reference changed, the old owner has lost a child too.
                EnqueueOwner(oldChild);
                EnqueueOwner(newChild);
            },
            Deleted = EnqueueOwner,
        });
        return this;
    }

    /// <summary>
    /// Reconciles whatever <paramref name="diff"/> names from an object of another kind's old and
    /// new versions (null when it was added or deleted): for an object that stands for many, of
    /// which one update touches few.
    /// </summary>
    public Controller<T> WatchesChanges<TOther>(Informer<TOther> informer, Func<TOther?, TOther?, IEnumerable<ReconcileRequest>> diff)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informer);
        ArgumentNullException.ThrowIfNull(diff);
        _informers.Add(informer);
        void Enqueue(TOther? oldObj, TOther? newObj)
        {
            foreach (var request in diff(oldObj, newObj))
            {
                Queue.Add(request);
            }
        }

        informer.AddEventHandler(new ResourceEventHandler<TOther>
        {
            Added = obj => Enqueue(null, obj),
            Updated = Enqueue,
            Deleted = obj => Enqueue(obj, null),
        });
        return this;
    }

    /// <summary>Reconciles whatever <paramref name="map"/> names when an object of another kind changes.</summary>
    public Controller<T> Watches<TOther>(Informer<TOther> informer, Func<TOther, IEnumerable<ReconcileRequest>> map)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informer);
        ArgumentNullException.ThrowIfNull(map);
        _informers.Add(informer);
        void Enqueue(TOther obj)
        {
            foreach (var request in map(obj))
            {
                Queue.Add(request);
            }
        }

        informer.AddEventHandler(new ResourceEventHandler<TOther>
        {
            Added = Enqueue,
            Updated = (oldObj, newObj) =>
            {
                Enqueue(oldObj);
                Enqueue(newObj);
            },
            Deleted = Enqueue,
        });
        return this;
    }

    /// <summary>Watches several informers of one kind (for example two selections of it) with the same <paramref name="map"/>.</summary>
    public Controller<T> Watches<TOther>(IEnumerable<Informer<TOther>> informers, Func<TOther, IEnumerable<ReconcileRequest>> map)
        where TOther : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(informers);
        foreach (var informer in informers)
        {
            Watches(informer, map);
        }

        return this;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"Controller {Name} runs only once.");
        }

        try
        {
            await WaitForCachesAsync(cancellationToken).ConfigureAwait(false);
            Log.Started(_logger, Name, _options.Workers);

            var loops = new List<Task>();
            for (var i = 0; i < _options.Workers; i++)
            {
                loops.Add(WorkerAsync(cancellationToken));
            }

            if (_options.ResyncPeriod is { } period && period > TimeSpan.Zero)
            {
                loops.Add(ResyncAsync(period, cancellationToken));
            }

            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Queue.ShutDown();
        }

        Log.Stopped(_logger, Name);
    }

    public void Dispose() => Queue.Dispose();

    private async Task WaitForCachesAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.CacheSyncTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await Task.WhenAll(_informers.Select(i => i.WaitForSyncAsync(linked.Token))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var pending = string.Join(", ", _informers.Where(i => !i.HasSynced).Select(i => i.Name));
            throw new TimeoutException($"Controller {Name}: caches did not sync within {_options.CacheSyncTimeout}: {pending}.");
        }
    }

    private async Task WorkerAsync(CancellationToken cancellationToken)
    {
        // Yield so that all workers start even if the queue already holds keys.
        await Task.Yield();
        while (true)
        {
            QueueItem<ReconcileRequest> item;
            try
            {
                item = await Queue.GetAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            if (item.IsShutDown)
            {
                return;
            }

            try
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                await ReconcileOneAsync(item.Key, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Queue.Done(item.Key);
            }
        }
    }

    private async Task ReconcileOneAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        var generation = _primary.Cache.Get(request.Namespace, request.Name)?.Metadata?.Generation;
        using var scope = ReconcileScope(_logger, _resource.Kind, request.Namespace, request.Name, generation);
        using var activity = RuntimeTelemetry.ActivitySource.StartActivity($"reconcile {_resource.Kind}");
        activity?.SetTag("controller", Name);
        activity?.SetTag("k8s.namespace.name", request.Namespace);
        activity?.SetTag("k8s.object.name", request.Name);

        _metrics?.ActiveWorkers.Add(1, _controllerTag);
        var started = _time.GetTimestamp();
        string result;
        try
        {
            var outcome = await _reconciler.ReconcileAsync(request, cancellationToken).ConfigureAwait(false);
            if (outcome.RequeueAfter > TimeSpan.Zero)
            {
                Queue.Forget(request);
                Queue.AddAfter(request, outcome.RequeueAfter);
                result = "requeue_after";
            }
            else if (outcome.RequeueRateLimited)
            {
                Queue.AddRateLimited(request);
                result = "requeue";
            }
            else
            {
                Queue.Forget(request);
                result = "success";
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown or lost leadership, not a failure; whoever runs next reconciles it again.
            activity?.SetStatus(ActivityStatusCode.Unset, "cancelled");
            return;
        }
        catch (Exception e) when (ApiErrors.IsConflict(e))
        {
            // Someone wrote the object after our cache saw it: routine, so no error log or error
            // count. The retry reads a fresher cache.
            Log.Conflict(_logger, Name, request.ToString(), e.Message);
            Queue.AddRateLimited(request);
            result = "conflict";
        }
        catch (KubernetesApiException e) when (e.IsNotFound && e.Path is { } path
            && (path == _resource.ObjectPath(request.Namespace, request.Name) || path == _resource.ObjectPath(request.Namespace, request.Name) + "/status"))
        {
            // The object itself was deleted while it was reconciled (e.g. its status write): its
            // delete event ends it, so no error log, count or retry.
            Log.Gone(_logger, Name, request.ToString(), e.Message);
            Queue.Forget(request);
            result = "gone";
        }
        catch (Exception e)
        {
            var requeues = Queue.NumRequeues(request);
            Queue.AddRateLimited(request);
            Log.ReconcileFailed(_logger, e, Name, request.ToString(), requeues + 1);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            _metrics?.ReconcileErrors.Add(1, _controllerTag);
            result = "error";
        }
        finally
        {
            _metrics?.ActiveWorkers.Add(-1, _controllerTag);
        }

        _metrics?.ReconcileTime.Record(_time.GetElapsedTime(started).TotalSeconds, _controllerTag);
        _metrics?.ReconcileTotal.Add(1, _controllerTag, new KeyValuePair<string, object?>("result", result));
        activity?.SetTag("result", result);
    }

    private async Task ResyncAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await Task.Delay(period, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var keys = _primary.Cache.List();
            foreach (var obj in keys)
            {
                Queue.Add(ReconcileRequest.For(obj));
            }

            Log.Resynced(_logger, Name, keys.Count);
        }
    }

    private void EnqueueOwner(IKubernetesObject<V1ObjectMeta> child)
    {
        var owners = child.Metadata?.OwnerReferences;
        if (owners is null)
        {
            return;
        }

        foreach (var owner in owners)
        {
            if (owner.Controller == true
                && string.Equals(owner.Kind, _resource.Kind, StringComparison.Ordinal)
                && _resource.IsSameGroup(owner.ApiVersion)
                && !string.IsNullOrEmpty(owner.Name))
            {
                // Owner references carry no namespace: a namespaced owner is always in its child's namespace.
                Queue.Add(new ReconcileRequest(_options.ClusterScoped ? null : child.Metadata!.NamespaceProperty, owner.Name));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Controller {Controller} started with {Workers} workers")]
        public static partial void Started(ILogger logger, string controller, int workers);

        [LoggerMessage(2, LogLevel.Information, "Controller {Controller} stopped")]
        public static partial void Stopped(ILogger logger, string controller);

        [LoggerMessage(3, LogLevel.Error, "Controller {Controller}: reconcile of {Key} failed (attempt {Attempt}), retrying with backoff")]
        public static partial void ReconcileFailed(ILogger logger, Exception exception, string controller, string key, int attempt);

        [LoggerMessage(4, LogLevel.Debug, "Controller {Controller}: conflict reconciling {Key}, requeued: {Message}")]
        public static partial void Conflict(ILogger logger, string controller, string key, string message);

        [LoggerMessage(6, LogLevel.Debug, "Controller {Controller}: {Key} was deleted while it was reconciled: {Message}")]
        public static partial void Gone(ILogger logger, string controller, string key, string message);

        [LoggerMessage(5, LogLevel.Debug, "Controller {Controller}: resync enqueued {Count} keys")]
        public static partial void Resynced(ILogger logger, string controller, int count);
    }
}
