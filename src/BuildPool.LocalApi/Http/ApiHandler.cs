using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Discovery;
using BuildPool.LocalApi.Json;
using BuildPool.LocalApi.OpenApi;
using BuildPool.LocalApi.Patching;
using BuildPool.LocalApi.Protobuf;
using BuildPool.LocalApi.Selectors;
using BuildPool.LocalApi.Storage;
using BuildPool.LocalApi.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BuildPool.LocalApi.Http;

/// <summary>
/// Routes Kubernetes REST paths by hand rather than through endpoint routing: resources come
/// and go with CRDs, and the path grammar (<c>/apis/g/v/namespaces/ns/plural/name/sub</c>) is
/// easier to parse once than to express as templates.
/// </summary>
internal sealed class ApiHandler(
    ResourceRegistry registry,
    ObjectStore store,
    FaultInjector faults,
    RequestStats stats,
    LocalApiOptions options,
    Func<string> serverAddress,
    ILogger logger,
    CancellationToken stopping)
{
    private static readonly string[] WatchTrue = ["true", "1"];
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        try
        {
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var isResource = segments.Length > 0 && (segments[0] == "api" && segments.Length > 2 || segments[0] == "apis" && segments.Length > 3);
            if ((isResource || faults.IncludeDiscovery) && faults.RollServerError())
            {
                Log.Injected(logger, 500, request.Method, path);
                throw Status.Internal("injected fault");
            }

            await RouteAsync(context, segments);
        }
        catch (ApiException e)
        {
            await WriteAsync(context, e.Code, e.Status);
        }
        catch (JsonException e)
        {
            await WriteAsync(context, 400, Status.BadRequest($"error decoding request body: {e.Message}").Status);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || stopping.IsCancellationRequested)
        {
            // Client went away or the server is stopping: nothing to answer.
        }
#pragma warning disable CA1031 // The emulator must answer with a Status body, never crash a test's client.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.Unhandled(logger, e, request.Method, path);
            if (!context.Response.HasStarted)
            {
                await WriteAsync(context, 500, Status.Internal(e.Message).Status);
            }
        }

        Log.Served(logger, request.Method, path, context.Response.StatusCode);
    }

    private async Task RouteAsync(HttpContext context, string[] s)
    {
        var method = context.Request.Method;
        if (s.Length == 0)
        {
            var paths = new JsonArray("/api", "/api/v1", "/apis", "/healthz", "/openapi/v2", "/openapi/v3", "/version");
            await WriteAsync(context, 200, new JsonObject { ["paths"] = paths });
            return;
        }

        switch (s[0])
        {
            case "version":
                await WriteAsync(context, 200, DiscoveryDocuments.Version(options.KubernetesVersion));
                return;
            case "healthz" or "livez" or "readyz":
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("ok", context.RequestAborted);
                return;
            case "openapi":
                await OpenApiAsync(context, s);
                return;
            case "api" when s.Length == 1:
                await WriteAsync(context, 200, DiscoveryDocuments.ApiVersions(serverAddress()));
                return;
            case "api" when s[1] == "v1":
                await ResourceAsync(context, method, "", "v1", s[2..]);
                return;
            case "apis" when s.Length == 1:
                await WriteAsync(context, 200, DiscoveryDocuments.GroupList(registry));
                return;
            case "apis" when s.Length == 2:
                await WriteAsync(context, 200, DiscoveryDocuments.Group(registry, s[1]) ?? throw Status.NotFoundPath(context.Request.Path));
                return;
            case "apis":
                await ResourceAsync(context, method, s[1], s[2], s[3..]);
                return;
            default:
                throw Status.NotFoundPath(context.Request.Path);
        }
    }

    private async Task OpenApiAsync(HttpContext context, string[] s)
    {
        var doc = s switch
        {
            [_, "v3"] => OpenApiDocuments.V3Root(registry),
            [_, "v3", .. var rest] => OpenApiDocuments.V3GroupVersion(registry, string.Join('/', rest)),
            _ => null,
        };
        await WriteAsync(context, 200, doc ?? throw Status.NotFoundPath(context.Request.Path));
    }

    private async Task ResourceAsync(HttpContext context, string method, string group, string version, string[] rest)
    {
        if (rest.Length == 0)
        {
            await WriteAsync(context, 200, DiscoveryDocuments.ResourceList(registry, group, version) ?? throw Status.NotFoundPath(context.Request.Path));
            return;
        }

        var legacyWatch = false;
        if (rest[0] == "watch")
        {
            legacyWatch = true;
            rest = rest[1..];
        }

        string? ns = null;
        ResourceType? rt = null;
        if (rest.Length >= 3 && rest[0] == "namespaces" && registry.Find(group, version, rest[2]) is { Namespaced: true } namespaced)
        {
            ns = rest[1];
            rt = namespaced;
            rest = rest[2..];
        }

        rt ??= registry.Find(group, version, rest[0]) ?? throw Status.NotFoundPath(context.Request.Path);
        if (rest.Length > 3)
        {
            throw Status.NotFoundPath(context.Request.Path);
        }

        var name = rest.Length > 1 ? rest[1] : null;
        var sub = rest.Length > 2 ? rest[2] : null;
        if (sub is not null && (sub != "status" || !rt.HasStatus))
        {
            throw Status.NotFoundPath(context.Request.Path);
        }

        if (rt.Namespaced && ns is null && name is not null)
        {
            // /api/v1/configmaps/x is not a thing for namespaced resources.
            throw Status.NotFoundPath(context.Request.Path);
        }

        var query = context.Request.Query;
        var watch = legacyWatch || WatchTrue.Contains(query["watch"].ToString());
        var verb = method switch
        {
            "GET" when name is null => watch ? "watch" : "list",
            "GET" => watch ? "watch" : "get",
            "POST" when name is null => "create",
            "PUT" when name is not null => "update",
            "PATCH" when name is not null => "patch",
            "DELETE" when name is null => "deletecollection",
            "DELETE" => "delete",
            _ => throw Status.MethodNotAllowed(),
        };
        var resource = sub is null ? rt.Plural : $"{rt.Plural}/{sub}";
        stats.Record(verb, resource);
        if (faults.IsForbidden(verb, resource))
        {
            Log.Injected(logger, 403, method, context.Request.Path);
            var scope = ns is null ? "at the cluster scope" : $"in the namespace \"{ns}\"";
            throw Status.Forbidden(rt, name ?? string.Empty, $"User \"{context.Request.Headers.UserAgent.ToString().Split('/')[0]}\" cannot {verb} resource \"{resource}\" in API group \"{rt.Group}\" {scope}");
        }

        if (verb is "update" or "patch" && faults.RollConflict())
        {
            Log.Injected(logger, 409, method, context.Request.Path);
            throw Status.Conflict(rt, name!);
        }

        var write = new WriteOptions(
            DryRun: query["dryRun"].ToString() == "All",
            StrictFields: query["fieldValidation"].ToString() == "Strict",
            FieldManager: query["fieldManager"].ToString() is { Length: > 0 } manager ? manager : context.Request.Headers.UserAgent.ToString().Split('/')[0]);
        switch (verb)
        {
            case "get":
                {
                    var obj = store.Get(rt, ns, name!);
                    await WriteAsync(context, 200, WantsTable(context)
                        ? TableRenderer.Render(rt, [obj], JsonUtil.ResourceVersion(obj) ?? "", null, query["includeObject"].ToString(), options.TimeProvider.GetUtcNow())
                        : obj);
                    return;
                }

            case "list":
                await ListAsync(context, rt, ns);
                return;
            case "watch":
                await WatchAsync(context, rt, ns, name);
                return;
            case "create":
                {
                    var body = await ReadObjectAsync(context);
                    await WriteAsync(context, 201, store.Create(rt, ns, body, write));
                    return;
                }

            case "update":
                {
                    var body = await ReadObjectAsync(context);
                    await WriteAsync(context, 200, store.Update(rt, ns, name!, sub, _ => body, write));
                    return;
                }

            case "patch":
                await PatchAsync(context, rt, ns, name!, sub, write);
                return;
            case "delete":
                await DeleteAsync(context, rt, ns, name!);
                return;
            default:
                {
                    var deleted = store.DeleteCollection(rt, ns, Labels(context), Fields(context), await ReadDeleteOptionsAsync(context));
                    await WriteAsync(context, 200, ListBody(rt, deleted, store.Revision.ToString(CultureInfo.InvariantCulture), null, null));
                    return;
                }
        }
    }

    private static LabelSelector Labels(HttpContext c) => LabelSelector.Parse(c.Request.Query["labelSelector"].ToString());

    private static FieldSelector Fields(HttpContext c) => FieldSelector.Parse(c.Request.Query["fieldSelector"].ToString());

    private static bool WantsTable(HttpContext c) =>
        c.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    private async Task ListAsync(HttpContext context, ResourceType rt, string? ns)
    {
        var query = context.Request.Query;
        _ = int.TryParse(query["limit"].ToString(), CultureInfo.InvariantCulture, out var limit);
        var cont = query["continue"].ToString();
        var result = store.List(rt, ns, Labels(context), Fields(context), query["resourceVersion"].ToString(), limit, cont.Length == 0 ? null : cont);
        var rv = result.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        if (WantsTable(context))
        {
            await WriteAsync(context, 200, TableRenderer.Render(rt, result.Items, rv, result.Continue, query["includeObject"].ToString(), options.TimeProvider.GetUtcNow()));
            return;
        }

        await WriteAsync(context, 200, ListBody(rt, result.Items, rv, result.Continue, result.RemainingItemCount));
    }

    private static JsonObject ListBody(ResourceType rt, IEnumerable<JsonObject> items, string rv, string? cont, long? remaining)
    {
        var meta = new JsonObject { ["resourceVersion"] = rv };
        if (cont is not null)
        {
            meta["continue"] = cont;
            meta["remainingItemCount"] = remaining;
        }

        return new JsonObject
        {
            ["apiVersion"] = rt.GroupVersion,
            ["kind"] = rt.ListKind,
            ["metadata"] = meta,
            ["items"] = new JsonArray(items.Select(i => (JsonNode)i).ToArray()),
        };
    }

    private async Task WatchAsync(HttpContext context, ResourceType rt, string? ns, string? name)
    {
        var query = context.Request.Query;
        var fields = Fields(context);
        if (name is not null)
        {
            fields = FieldSelector.Parse(string.Join(',', new[] { $"metadata.name={name}", query["fieldSelector"].ToString() }.Where(x => x.Length > 0)));
        }

        var watcher = store.Watch(
            new Watcher
            {
                Type = rt,
                Namespace = rt.Namespaced ? ns : null,
                Labels = Labels(context),
                Fields = fields,
                AsTable = WantsTable(context),
                IncludeObject = query["includeObject"].ToString() is { Length: > 0 } io ? io : "Object",
                Now = options.TimeProvider.GetUtcNow,
            },
            query["resourceVersion"].ToString());

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-cache, private";
        await response.StartAsync(context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var timeout = int.TryParse(query["timeoutSeconds"].ToString(), CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            // A system timer cannot be armed beyond about 49.7 days; a larger timeoutSeconds (clients
            // do send int.MaxValue) must keep the watch open rather than abort the stream.
            ? TimeSpan.FromSeconds(Math.Min(seconds, MaxTimerDelay.TotalSeconds))
            : (TimeSpan?)null;
        using var timer = timeout is { } t ? options.TimeProvider.CreateTimer(_ => cts.Cancel(), null, t, Timeout.InfiniteTimeSpan) : null;
        var bookmarks = query["allowWatchBookmarks"].ToString() == "true"
            ? BookmarkLoopAsync(watcher, cts.Token)
            : Task.CompletedTask;
        try
        {
            await foreach (var line in watcher.Lines.ReadAllAsync(cts.Token))
            {
                if (faults.WatchEventDelays.TryGetValue(rt.Plural, out var lag) && lag > TimeSpan.Zero)
                {
                    await Task.Delay(lag, cts.Token);
                }

                await response.Body.WriteAsync(line, cts.Token);
                await response.Body.FlushAsync(cts.Token);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // timeoutSeconds elapsed, the client left or the server is stopping: end the stream cleanly.
        }
        finally
        {
            store.StopWatch(watcher);
            await cts.CancelAsync();
            await bookmarks;
        }
    }

    private async Task BookmarkLoopAsync(Watcher watcher, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(options.BookmarkInterval, options.TimeProvider, ct);
                store.Bookmark(watcher);
            }
        }
        catch (OperationCanceledException)
        {
            // The watch ended.
        }
    }

    private async Task PatchAsync(HttpContext context, ResourceType rt, string? ns, string name, string? sub, WriteOptions write)
    {
        var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim();
        Func<JsonNode, JsonNode?, JsonNode?> apply = contentType switch
        {
            "application/merge-patch+json" => MergePatch.Apply,
            "application/json-patch+json" => (target, patch) => JsonPatch.Apply(target, patch),
            "application/strategic-merge-patch+json" when !rt.IsCustom => StrategicMergePatch.Apply,
            _ => throw Status.UnsupportedMediaType(contentType),
        };
        var patch = await ReadJsonAsync(context);
        var result = store.Update(rt, ns, name, sub, current => apply(current, patch) as JsonObject
            ?? throw Status.BadRequest("the patch did not produce an object"), write);
        await WriteAsync(context, 200, result);
    }

    private async Task DeleteAsync(HttpContext context, ResourceType rt, string? ns, string name)
    {
        var (result, gone) = store.Delete(rt, ns, name, await ReadDeleteOptionsAsync(context));
        if (gone && !rt.IsCustom)
        {
            // Built-in registries answer an immediate delete with a Status; CRs and pending deletions return the object.
            await WriteAsync(context, 200, Status.Success(rt, name, JsonUtil.Uid(result)));
            return;
        }

        await WriteAsync(context, 200, result);
    }

    private static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var policy = query["propagationPolicy"].ToString() is { Length: > 0 } p ? p : null;
        string? uid = null;
        string? rv = null;
        if (context.Request.ContentLength is not 0)
        {
            var body = await ReadJsonAsync(context, allowEmpty: true);
            if (body is JsonObject o)
            {
                policy = JsonUtil.Str(o["propagationPolicy"]) ?? policy;
                if (o["orphanDependents"]?.GetValueKind() == JsonValueKind.True)
                {
                    policy = "Orphan";
                }

                uid = JsonUtil.Str(o["preconditions"]?["uid"]);
                rv = JsonUtil.Str(o["preconditions"]?["resourceVersion"]);
                if (o["dryRun"] is JsonArray dry && dry.Any(d => JsonUtil.Str(d) == "All"))
                {
                    return new DeleteOptions(policy, uid, rv, DryRun: true);
                }
            }
        }

        if (query["orphanDependents"].ToString() == "true")
        {
            policy = "Orphan";
        }

        return new DeleteOptions(policy, uid, rv, DryRun: query["dryRun"].ToString() == "All");
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context) =>
        await ReadJsonAsync(context) as JsonObject ?? throw Status.BadRequest("the request body must be a JSON object");

    private static async Task<JsonNode?> ReadJsonAsync(HttpContext context, bool allowEmpty = false)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var contentType = context.Request.ContentType ?? "";
        if (contentType.Contains("protobuf", StringComparison.OrdinalIgnoreCase))
        {
            // kubectl's imperative create commands speak protobuf and never fall back to JSON.
            return ProtobufObjects.TryDecode(buffer.ToArray()) ?? throw Status.UnsupportedMediaType(contentType);
        }

        var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        if (string.IsNullOrWhiteSpace(text))
        {
            return allowEmpty ? null : throw Status.BadRequest("the request body is empty");
        }

        if (contentType.Contains("yaml", StringComparison.OrdinalIgnoreCase) && !text.TrimStart().StartsWith('{'))
        {
            if (contentType.StartsWith("application/apply-patch", StringComparison.Ordinal))
            {
                throw Status.UnsupportedMediaType(contentType);
            }

            return YamlJson.ParseDocuments(text).FirstOrDefault();
        }

        return JsonNode.Parse(text);
    }

    private static async Task WriteAsync(HttpContext context, int code, JsonNode body)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        var bytes = JsonUtil.ToBytes(body);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
