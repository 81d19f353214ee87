using System.Collections.Concurrent;
using System.Net;
using BuildPool.LocalApi.Tests.TestSupport;
using BuildPool.TestDoubles;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.LocalApi.Tests;

public sealed class WatchTests : ServerTest
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    private async Task<V1ConfigMap> MakeAsync(string name, Dictionary<string, string>? labels = null) =>
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = labels } }, Ns);

    private static string Name(System.Text.Json.Nodes.JsonObject e) => e["object"]!["metadata"]!["name"]!.GetValue<string>();

    [Fact]
    public async Task Watch_without_a_resource_version_lists_current_objects_as_added_then_streams_changes()
    {
        await MakeAsync("before");
        var events = new ConcurrentQueue<(WatchEventType Type, string Name)>();
        using var cts = new CancellationTokenSource();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, item) in Client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, cancellationToken: cts.Token))
            {
                events.Enqueue((type, item.Metadata.Name));
            }
        });

        await Eventually.TrueAsync(() => events.Contains((WatchEventType.Added, "before")), "the existing object arrives as ADDED");
        await MakeAsync("after");
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"b"}}""", V1Patch.PatchType.MergePatch), "after", Ns);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("after", Ns);

        await Eventually.TrueAsync(() => events.Count >= 4, "all changes are streamed");
        Assert.Equal(
            [(WatchEventType.Added, "before"), (WatchEventType.Added, "after"), (WatchEventType.Modified, "after"), (WatchEventType.Deleted, "after")],
            events.ToArray());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task Watch_resumes_from_a_resource_version_with_the_events_missed_since()
    {
        var a = await MakeAsync("a");
        await MakeAsync("b");
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"x":"1"}}""", V1Patch.PatchType.MergePatch), "a", Ns);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("b", Ns);

        await using var watch = await RawWatch.OpenAsync(Server.BaseAddress, $"{ConfigMaps}?watch=true&resourceVersion={a.Metadata.ResourceVersion}");

        await Eventually.TrueAsync(() => watch.Events.Count >= 3, "the missed events are replayed");
        Assert.Equal(["ADDED b", "MODIFIED a", "DELETED b"], watch.Events.Select(e => $"{e["type"]} {Name(e)}"));
    }

    [Fact]
    public async Task Resuming_after_history_expiry_gets_a_410_expired_error_event_and_lists_too()
    {
        var a = await MakeAsync("a");
        Server.Faults.ExpireHistory();

        await using var watch = await RawWatch.OpenAsync(Server.BaseAddress, $"{ConfigMaps}?watch=true&resourceVersion={a.Metadata.ResourceVersion}");

        await Eventually.TrueAsync(() => watch.Ended, "the server ends the stream");
        var error = Assert.Single(watch.Events);
        Assert.Equal("ERROR", error["type"]!.GetValue<string>());
        Assert.Equal("Expired", error["object"]!["reason"]!.GetValue<string>());
        Assert.Equal(410, error["object"]!["code"]!.GetValue<int>());
        Assert.StartsWith("too old resource version: ", error["object"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var (code, status) = await FailureAsync(() => Client.CoreV1.ListNamespacedConfigMapAsync(Ns, resourceVersion: a.Metadata.ResourceVersion));
        Assert.Equal(HttpStatusCode.Gone, code);
        Assert.Equal("Expired", Str(status["reason"]));

        // A fresh list hands out a revision that can be watched from again.
        var fresh = await Client.CoreV1.ListNamespacedConfigMapAsync(Ns);
        await using var again = await RawWatch.OpenAsync(Server.BaseAddress, $"{ConfigMaps}?watch=true&resourceVersion={fresh.Metadata.ResourceVersion}");
        await MakeAsync("b");
        await Eventually.TrueAsync(() => again.Events.Any(e => Name(e) == "b"), "the new watch streams");
    }

    [Fact]
    public async Task Watch_history_is_bounded_by_the_configured_limit()
    {
        await using var server = new LocalApiServer(new LocalApiOptions { WatchHistoryLimit = 3 });
        await server.StartAsync();
        using var client = server.CreateClient();
        var first = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "c0" } }, Ns);
        for (var i = 1; i < 6; i++)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"c{i}" } }, Ns);
        }

        await using var old = await RawWatch.OpenAsync(server.BaseAddress, $"{ConfigMaps}?watch=1&resourceVersion={first.Metadata.ResourceVersion}");
        await Eventually.TrueAsync(() => old.Ended, "the too-old watch ends");
        Assert.Equal(["ERROR"], old.Types);
    }

    [Fact]
    public async Task Typed_client_watch_reports_410_through_its_error_callback()
    {
        var a = await MakeAsync("a");
        Server.Faults.ExpireHistory();
        var errors = new ConcurrentQueue<Exception>();

        await foreach (var _ in Client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: a.Metadata.ResourceVersion, onError: errors.Enqueue))
        {
            Assert.Fail("no object events are expected");
        }

        var error = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, error.Status.Code);
        Assert.Equal("Expired", error.Status.Reason);
    }

    [Fact]
    public async Task Bookmarks_carry_the_current_resource_version_at_the_configured_interval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new LocalApiServer(new LocalApiOptions { TimeProvider = time, BookmarkInterval = TimeSpan.FromSeconds(5) });
        await server.StartAsync();
        using var client = server.CreateClient();
        var cm = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a" } }, Ns);

        await using var watch = await RawWatch.OpenAsync(server.BaseAddress, $"{ConfigMaps}?watch=true&allowWatchBookmarks=true&resourceVersion={cm.Metadata.ResourceVersion}");
        await Eventually.TrueAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(5));
                return watch.Types.Contains("BOOKMARK");
            },
            "a bookmark arrives once the interval passes");

        var bookmark = watch.Events.First(e => e["type"]!.GetValue<string>() == "BOOKMARK");
        Assert.Equal(server.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), bookmark["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal("ConfigMap", bookmark["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_ends_after_timeout_seconds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new LocalApiServer(new LocalApiOptions { TimeProvider = time });
        await server.StartAsync();

        await using var watch = await RawWatch.OpenAsync(server.BaseAddress, $"{ConfigMaps}?watch=true&timeoutSeconds=30");
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(watch.Ended);
        await Eventually.TrueAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return watch.Ended;
            },
            "the stream ends at the timeout");
    }

    [Fact]
    public async Task A_watch_with_the_largest_timeout_seconds_stays_open_and_streams_changes()
    {
        // int.MaxValue seconds is beyond what a system timer can be armed for.
        await using var watch = await RawWatch.OpenAsync(Server.BaseAddress, $"{ConfigMaps}?watch=true&timeoutSeconds={int.MaxValue}");
        await MakeAsync("late");

        await Eventually.TrueAsync(() => watch.Events.Any(e => Name(e) == "late"), "the new object is streamed");
        Assert.False(watch.Ended);
    }

    [Fact]
    public async Task Dropping_watches_closes_open_streams_and_clients_can_resume()
    {
        await using var watch = await RawWatch.OpenAsync(Server.BaseAddress, $"{ConfigMaps}?watch=true");
        await Eventually.TrueAsync(() => Server.OpenWatches == 1, "the watch is registered");

        Assert.Equal(1, Server.Faults.DropWatches());

        await Eventually.TrueAsync(() => watch.Ended, "the stream ends");
        Assert.Equal(1, Server.Faults.DroppedWatches);
    }

    [Fact]
    public async Task Periodic_watch_drops_follow_the_server_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new LocalApiServer(new LocalApiOptions { TimeProvider = time });
        await server.StartAsync();
        server.Faults.DropWatchesEvery = TimeSpan.FromSeconds(10);

        await using var watch = await RawWatch.OpenAsync(server.BaseAddress, $"{ConfigMaps}?watch=true");
        await Eventually.TrueAsync(() => server.OpenWatches == 1, "the watch is registered");
        time.Advance(TimeSpan.FromSeconds(10));

        await Eventually.TrueAsync(() => watch.Ended, "the periodic drop ends the stream");
    }

    [Fact]
    public async Task Label_selector_watch_sees_objects_enter_and_leave_the_selection()
    {
        var cm = await MakeAsync("m", new() { ["team"] = "a" });
        await using var watch = await RawWatch.OpenAsync(Server.BaseAddress, $"{ConfigMaps}?watch=true&labelSelector=team%3Da&resourceVersion={cm.Metadata.ResourceVersion}");

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"team":"b"}}}""", V1Patch.PatchType.MergePatch), "m", Ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"ignored":"yes"}}""", V1Patch.PatchType.MergePatch), "m", Ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"team":"a"}}}""", V1Patch.PatchType.MergePatch), "m", Ns);

        await Eventually.TrueAsync(() => watch.Events.Count >= 2, "both transitions arrive");
        Assert.Equal(["DELETED", "ADDED"], watch.Types);
    }

    [Fact]
    public async Task Single_object_watch_by_field_selector_only_sees_that_object()
    {
        await MakeAsync("mine");
        await MakeAsync("theirs");
        await using var watch = await RawWatch.OpenAsync(Server.BaseAddress, $"{ConfigMaps}?watch=true&fieldSelector=metadata.name%3Dmine");

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"1"}}""", V1Patch.PatchType.MergePatch), "theirs", Ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"1"}}""", V1Patch.PatchType.MergePatch), "mine", Ns);

        await Eventually.TrueAsync(() => watch.Events.Count >= 2, "the object's events arrive");
        Assert.Equal(["ADDED mine", "MODIFIED mine"], watch.Events.Select(e => $"{e["type"]} {Name(e)}"));
    }

    [Fact]
    public async Task Custom_resource_watch_streams_status_updates()
    {
        var created = await CreatePoolAsync(Pool("w"));
        var rv = Str(created["metadata"]!["resourceVersion"]);
        await using var watch = await RawWatch.OpenAsync(Server.BaseAddress, $"/apis/{Group}/{Version}/namespaces/default/{Plural}?watch=true&resourceVersion={rv}");

        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch("""{"status":{"readyReplicas":1}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "w");

        await Eventually.TrueAsync(() => !watch.Events.IsEmpty, "the status change arrives");
        var e = Assert.Single(watch.Events);
        Assert.Equal("MODIFIED", e["type"]!.GetValue<string>());
        Assert.Equal(1, e["object"]!["status"]!["readyReplicas"]!.GetValue<int>());
        Assert.Equal($"{Group}/{Version}", e["object"]!["apiVersion"]!.GetValue<string>());
    }
}
