using System.Net;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using BuildPool.Runtime.Tests.Support;
using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Tests.Client;

public sealed class KubernetesApiAccessTests
{
    private const string ConflictStatus = """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the object has been modified","reason":"Conflict","code":409}""";

    [Fact]
    public async Task Core_kinds_are_listed_under_api_v1_with_the_lists_resource_version()
    {
        var handler = new StubHandler(_ => (HttpStatusCode.OK, """{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"77"},"items":[{"metadata":{"name":"a","namespace":"ns","resourceVersion":"70"}}]}"""));
        var watcher = new KubernetesListWatcher<V1ConfigMap>(Transport(handler), "ns", labelSelector: "app=x");

        var list = await watcher.ListAsync(CancellationToken.None);

        Assert.Equal("77", list.ResourceVersion);
        Assert.Equal("a", Assert.Single(list.Items).Metadata.Name);
        Assert.Equal("GET /api/v1/namespaces/ns/configmaps?limit=500&labelSelector=app%3Dx", Assert.Single(handler.Requests));
    }

    [Fact]
    public async Task Grouped_kinds_use_apis_group_version_and_list_all_namespaces_without_one()
    {
        var handler = new StubHandler(_ => (HttpStatusCode.OK, """{"metadata":{"resourceVersion":"1"},"items":[]}"""));

        await new KubernetesListWatcher<V1Deployment>(Transport(handler)).ListAsync(CancellationToken.None);

        Assert.StartsWith("GET /apis/apps/v1/deployments?", Assert.Single(handler.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_watch_stream_is_parsed_line_by_line_including_bookmarks_and_errors()
    {
        var stream = string.Join('\n',
            """{"type":"ADDED","object":{"metadata":{"name":"a","namespace":"ns","resourceVersion":"11"}}}""",
            """{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"12"}}}""",
            "",
            """{"type":"DELETED","object":{"metadata":{"name":"a","namespace":"ns","resourceVersion":"13"}}}""",
            """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410}}""");
        var handler = new StubHandler(_ => (HttpStatusCode.OK, stream));
        var watcher = new KubernetesListWatcher<V1ConfigMap>(Transport(handler), "ns");

        var events = new List<WatchEvent<V1ConfigMap>>();
        await foreach (var e in watcher.WatchAsync("10", CancellationToken.None))
        {
            events.Add(e);
        }

        Assert.Equal([WatchEventType.Added, WatchEventType.Bookmark, WatchEventType.Deleted, WatchEventType.Error], events.Select(e => e.Type));
        Assert.Equal("12", events[1].Object!.Metadata.ResourceVersion);
        Assert.Equal(410, events[3].Status!.Code);
        var request = Assert.Single(handler.Requests);
        Assert.Contains("watch=1", request, StringComparison.Ordinal);
        Assert.Contains("allowWatchBookmarks=true", request, StringComparison.Ordinal);
        Assert.Contains("resourceVersion=10", request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watch_refused_with_410_raises_a_gone_error()
    {
        var handler = new StubHandler(_ => (HttpStatusCode.Gone, """{"kind":"Status","reason":"Expired","code":410}"""));
        var watcher = new KubernetesListWatcher<V1ConfigMap>(Transport(handler));

        var error = await Assert.ThrowsAsync<KubernetesApiException>(async () =>
        {
            await foreach (var unused in watcher.WatchAsync("1", CancellationToken.None))
            {
            }
        });

        Assert.True(error.IsGone);
        Assert.True(ApiErrors.IsGone(error));
    }

    [Fact]
    public async Task A_stale_replace_raises_a_conflict_and_a_missing_object_reads_as_null()
    {
        var handler = new StubHandler(request => request.Method == HttpMethod.Put
            ? (HttpStatusCode.Conflict, ConflictStatus)
            : (HttpStatusCode.NotFound, """{"kind":"Status","reason":"NotFound","code":404}"""));
        var client = new ResourceClient<V1ConfigMap>(Transport(handler));

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => client.ReplaceStatusAsync(Objects.ConfigMap("a", "1", ns: "ns")));
        Assert.Equal("Conflict", conflict.Reason);
        Assert.True(ApiErrors.IsConflict(conflict));
        Assert.Null(await client.GetAsync("ns", "a"));
        Assert.False(await client.DeleteAsync("ns", "a"));
        // The status write re-reads after its conflict; the object is gone, so the conflict stands.
        Assert.Equal(["PUT /api/v1/namespaces/ns/configmaps/a/status", "GET /api/v1/namespaces/ns/configmaps/a", "GET /api/v1/namespaces/ns/configmaps/a", "DELETE /api/v1/namespaces/ns/configmaps/a"], handler.Requests);
    }

    [Fact]
    public async Task Merge_patches_are_sent_with_the_merge_patch_content_type()
    {
        string? contentType = null;
        var handler = new StubHandler(request =>
        {
            contentType = request.Content?.Headers.ContentType?.MediaType;
            return (HttpStatusCode.OK, """{"metadata":{"name":"a","namespace":"ns","resourceVersion":"2"}}""");
        });
        var client = new ResourceClient<V1ConfigMap>(Transport(handler));

        var patched = await client.PatchAsync("ns", "a", new { metadata = new { labels = new { x = "y" } } });

        Assert.Equal("2", patched.Metadata.ResourceVersion);
        Assert.Equal("application/merge-patch+json", contentType);
    }

    private static KubernetesTransport Transport(StubHandler handler) =>
        new(new HttpClient(handler), new Uri("http://api.test"));
}
