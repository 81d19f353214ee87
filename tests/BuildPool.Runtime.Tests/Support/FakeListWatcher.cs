using System.Runtime.CompilerServices;
using System.Threading.Channels;
using BuildPool.Runtime.Informers;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Tests.Support;

/// <summary>A scripted API: the test sets what a list returns and drives each watch by hand.</summary>
internal sealed class FakeListWatcher<T> : IListWatcher<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Channel<FakeWatch<T>> _watches = Channel.CreateUnbounded<FakeWatch<T>>();
    private readonly Lock _gate = new();
    private readonly List<string> _watchedFrom = [];
    private ListResult<T> _list = new([], "1");
    private int _listCalls;

    /// <summary>When set, each list waits for it (to hold an informer unsynced).</summary>
    public TaskCompletionSource? ListGate { get; set; }

    public int ListCalls => Volatile.Read(ref _listCalls);

    public IReadOnlyList<string> WatchedFrom
    {
        get
        {
            lock (_gate)
            {
                return [.. _watchedFrom];
            }
        }
    }

    public void SetList(string resourceVersion, params T[] items)
    {
        lock (_gate)
        {
            _list = new ListResult<T>(items, resourceVersion);
        }
    }

    public async Task<ListResult<T>> ListAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _listCalls);
        if (ListGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        lock (_gate)
        {
            return _list;
        }
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var watch = new FakeWatch<T>(resourceVersion);
        lock (_gate)
        {
            _watchedFrom.Add(resourceVersion);
        }

        _watches.Writer.TryWrite(watch);
        await foreach (var watchEvent in watch.Events.Reader.ReadAllAsync(cancellationToken))
        {
            yield return watchEvent;
        }
    }

    /// <summary>The next watch the informer opens.</summary>
    public async Task<FakeWatch<T>> NextWatchAsync()
    {
        using var timeout = new CancellationTokenSource(Eventually.DefaultTimeout);
        return await _watches.Reader.ReadAsync(timeout.Token);
    }
}

internal sealed class FakeWatch<T>(string resourceVersion)
    where T : class
{
    public string ResourceVersion { get; } = resourceVersion;

    public Channel<WatchEvent<T>> Events { get; } = Channel.CreateUnbounded<WatchEvent<T>>();

    public void Send(WatchEventType type, T obj) => Events.Writer.TryWrite(new WatchEvent<T>(type, obj));

    public void SendError(int code) => Events.Writer.TryWrite(new WatchEvent<T>(WatchEventType.Error, null, new V1Status { Code = code, Reason = code == 410 ? "Expired" : "InternalError" }));

    /// <summary>The server ends the watch cleanly.</summary>
    public void Close() => Events.Writer.TryComplete();

    /// <summary>The connection breaks.</summary>
    public void Drop(Exception error) => Events.Writer.TryComplete(error);
}
