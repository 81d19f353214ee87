using System.Net;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using BuildPool.Runtime.Tests.Support;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Runtime.Tests.Informers;

public sealed class InformerTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeListWatcher<V1ConfigMap> _api = new();
    private readonly RecordingHandler<V1ConfigMap> _handler = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Informer<V1ConfigMap> _informer;
    private Task? _run;

    public InformerTests()
    {
        _informer = new Informer<V1ConfigMap>(_api, _time);
        _informer.AddEventHandler(_handler);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(Eventually.DefaultTimeout);
        }

        _stop.Dispose();
    }

    [Fact]
    public async Task It_lists_first_then_watches_from_the_lists_resource_version()
    {
        _api.SetList("10", Objects.ConfigMap("a", "5"), Objects.ConfigMap("b", "7"));

        Assert.False(_informer.HasSynced);
        var watch = await StartAsync();

        Assert.True(_informer.HasSynced);
        Assert.Equal("10", watch.ResourceVersion);
        Assert.Equal(["add a", "add b"], _handler.Events.Order());
        Assert.NotNull(_informer.Cache.Get("default", "a"));
    }

    [Fact]
    public async Task Watch_events_update_the_cache_before_handlers_hear_of_them()
    {
        var watch = await StartAsync(Objects.ConfigMap("a", "5"), Objects.ConfigMap("b", "6"));
        var cacheSeenByHandler = new List<string?>();
        _informer.AddEventHandler(new ResourceEventHandler<V1ConfigMap>
        {
            Updated = (_, obj) => cacheSeenByHandler.Add(_informer.Cache.Get("default", obj.Metadata.Name)?.Metadata.ResourceVersion),
        });

        watch.Send(WatchEventType.Added, Objects.ConfigMap("c", "11"));
        watch.Send(WatchEventType.Modified, Objects.ConfigMap("a", "12"));
        watch.Send(WatchEventType.Deleted, Objects.ConfigMap("b", "13"));
        await Eventually.TrueAsync(() => _informer.LastResourceVersion == "13", "all events are applied");

        Assert.Equal(["a", "c"], _informer.Cache.List().Select(o => o.Metadata.Name).Order());
        Assert.Equal("12", _informer.Cache.Get("default", "a")!.Metadata.ResourceVersion);
        Assert.Equal(["add c", "update a", "delete b"], _handler.Events.Skip(2));
        Assert.Equal(["12"], cacheSeenByHandler);
    }

    [Fact]
    public async Task A_dropped_watch_resumes_from_the_last_resource_version_seen_without_listing_again()
    {
        var watch = await StartAsync(Objects.ConfigMap("a", "5"));
        watch.Send(WatchEventType.Modified, Objects.ConfigMap("a", "11"));
        await Eventually.TrueAsync(() => _informer.LastResourceVersion == "11", "the event is applied");

        watch.Drop(new IOException("connection reset"));
        var next = _api.NextWatchAsync();
        await Eventually.AdvanceUntilAsync(_time, TimeSpan.FromMilliseconds(200), () => next.IsCompleted, "the informer watches again after its backoff");

        Assert.Equal("11", (await next).ResourceVersion);
        Assert.Equal(1, _api.ListCalls);
        Assert.Equal(["10", "11"], _api.WatchedFrom);
    }

    [Fact]
    public async Task Bookmarks_advance_the_resource_version_a_new_watch_starts_from()
    {
        var watch = await StartAsync(Objects.ConfigMap("a", "5"));
        watch.Send(WatchEventType.Bookmark, Objects.Bookmark("42"));
        await Eventually.TrueAsync(() => _informer.LastResourceVersion == "42", "the bookmark is seen");

        // The server ends watches after their timeout; one that delivered events is reopened at once.
        watch.Close();

        Assert.Equal("42", (await _api.NextWatchAsync()).ResourceVersion);
        Assert.Single(_informer.Cache.List());
        Assert.Equal(["add a"], _handler.Events);
    }

    [Fact]
    public async Task A_410_error_event_lists_again_and_reports_what_changed_including_deletions()
    {
        var watch = await StartAsync(Objects.ConfigMap("a", "5"), Objects.ConfigMap("b", "6"), Objects.ConfigMap("same", "7"));
        _api.SetList("50", Objects.ConfigMap("a", "45"), Objects.ConfigMap("same", "7"), Objects.ConfigMap("c", "48"));

        watch.SendError(410);

        var next = await _api.NextWatchAsync();
        Assert.Equal("50", next.ResourceVersion);
        Assert.Equal(2, _api.ListCalls);
        Assert.Equal(["a", "c", "same"], _informer.Cache.List().Select(o => o.Metadata.Name).Order());
        Assert.Equal(["delete b", "update a", "add c"], _handler.Events.Skip(3));
    }

    [Fact]
    public async Task A_410_answer_to_the_watch_request_lists_again()
    {
        var watch = await StartAsync(Objects.ConfigMap("a", "5"));
        _api.SetList("60");

        watch.Drop(KubernetesApiException.Create(HttpStatusCode.Gone, new V1Status { Code = 410 }, "watch"));

        Assert.Equal("60", (await _api.NextWatchAsync()).ResourceVersion);
        Assert.Empty(_informer.Cache.List());
        Assert.Equal("delete a", _handler.Events[^1]);
    }

    [Fact]
    public async Task Other_watch_errors_back_off_and_resume_without_listing()
    {
        var watch = await StartAsync(Objects.ConfigMap("a", "5"));
        watch.SendError(500);

        var next = _api.NextWatchAsync();
        await Eventually.NeverAsync(() => next.IsCompleted, "no reconnect before the backoff passes");
        await Eventually.AdvanceUntilAsync(_time, TimeSpan.FromMilliseconds(200), () => next.IsCompleted, "the informer watches again");

        Assert.Equal("10", (await next).ResourceVersion);
        Assert.Equal(1, _api.ListCalls);
    }

    [Fact]
    public async Task A_handler_added_after_sync_is_told_about_every_cached_object()
    {
        await StartAsync(Objects.ConfigMap("a", "5"), Objects.ConfigMap("b", "6"));
        var late = new RecordingHandler<V1ConfigMap>();

        _informer.AddEventHandler(late);

        Assert.Equal(["add a", "add b"], late.Events.Order());
    }

    [Fact]
    public async Task WaitForSync_completes_only_after_the_first_list()
    {
        _api.ListGate = new TaskCompletionSource();
        _run = _informer.RunAsync(_stop.Token);
        var synced = _informer.WaitForSyncAsync(CancellationToken.None);
        await Eventually.NeverAsync(() => synced.IsCompleted, "the informer is not synced before its list returns");

        _api.ListGate.SetResult();

        await synced.WaitAsync(Eventually.DefaultTimeout);
        Assert.True(_informer.HasSynced);
    }

    private async Task<FakeWatch<V1ConfigMap>> StartAsync(params V1ConfigMap[] initial)
    {
        if (initial.Length > 0)
        {
            _api.SetList("10", initial);
        }

        _run = _informer.RunAsync(_stop.Token);
        await _informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Eventually.DefaultTimeout);
        return await _api.NextWatchAsync();
    }
}
