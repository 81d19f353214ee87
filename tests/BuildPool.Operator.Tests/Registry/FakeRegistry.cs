using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Tests.Registry;

internal enum FakeAuth
{
    None,
    Basic,
    Bearer,
}

/// <summary>
/// A small registry API v2 in Kestrel, for what a real registry will not easily show: token
/// auth, catalog refusal, small pages, deletes switched off, BuildKit's index-form cache.
/// </summary>
internal sealed class FakeRegistry : IAsyncDisposable
{
    public const string User = "ci";
    public const string Password = "s3cret";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string>> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), (string MediaType, byte[] Body)> _manifests = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private int _tokens;

    private FakeRegistry(WebApplication app) => _app = app;

    public FakeAuth Auth { get; init; }

    public bool DeleteEnabled { get; set; } = true;

    public bool CatalogEnabled { get; set; } = true;

    public int PageSize { get; set; } = 100;

    public string Host { get; private set; } = "";

    /// <summary>"METHOD path auth-scheme" of every request, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Scopes asked of the token endpoint.</summary>
    public ConcurrentQueue<string> TokenScopes { get; } = new();

    public IReadOnlyCollection<string> TagsOf(string repository) =>
        _tags.TryGetValue(repository, out var tags) ? tags.Keys.Order(StringComparer.Ordinal).ToList() : [];

    public static async Task<FakeRegistry> StartAsync(FakeAuth auth = FakeAuth.None)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var registry = new FakeRegistry(app) { Auth = auth };
        app.Run(registry.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        registry.Host = new Uri(address).Authority;
        return registry;
    }

    public void Push(string repository, string tag, TestCache cache)
    {
        foreach (var blob in cache.Blobs)
        {
            _blobs[blob.Digest] = blob.Content;
        }

        _manifests[(repository, cache.Digest)] = (cache.MediaType, cache.Manifest);
        _tags.GetOrAdd(repository, _ => new ConcurrentDictionary<string, string>(StringComparer.Ordinal))[tag] = cache.Digest;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var authorization = request.Headers.Authorization.ToString();
        Requests.Enqueue($"{request.Method} {path}{request.QueryString} {authorization.Split(' ')[0]}".TrimEnd());

        if (path == "/token")
        {
            await TokenAsync(context, authorization);
            return;
        }

        if (!Authorized(authorization))
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = Auth == FakeAuth.Basic
                ? "Basic realm=\"fake\""
                : $"Bearer realm=\"http://{Host}/token\",service=\"fake-registry\",scope=\"{ScopeFor(request.Method, path)}\"";
            await Error(context, "UNAUTHORIZED", "authentication required");
            return;
        }

        if (path == "/v2/" || path == "/v2")
        {
            await context.Response.WriteAsync("{}");
            return;
        }

        if (path == "/v2/_catalog")
        {
            if (!CatalogEnabled)
            {
                context.Response.StatusCode = 404;
                await Error(context, "UNSUPPORTED", "catalog is disabled");
                return;
            }

            await PageAsync(context, "repositories", _tags.Keys.Order(StringComparer.Ordinal).ToList(), "/v2/_catalog");
            return;
        }

        if (path.EndsWith("/tags/list", StringComparison.Ordinal))
        {
            var name = path["/v2/".Length..^"/tags/list".Length];
            if (!_tags.TryGetValue(name, out var tags) || tags.IsEmpty)
            {
                context.Response.StatusCode = 404;
                await Error(context, "NAME_UNKNOWN", "repository name not known to registry");
                return;
            }

            await PageAsync(context, "tags", tags.Keys.Order(StringComparer.Ordinal).ToList(), path, name);
            return;
        }

        var m = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
        if (m > 0)
        {
            await ManifestAsync(context, path[4..m], path[(m + "/manifests/".Length)..]);
            return;
        }

        var b = path.LastIndexOf("/blobs/", StringComparison.Ordinal);
        if (b > 0 && request.Method == "GET" && _blobs.TryGetValue(path[(b + "/blobs/".Length)..], out var blob))
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(blob);
            return;
        }

        context.Response.StatusCode = 404;
        await Error(context, "NOT_FOUND", "not found");
    }

    private async Task ManifestAsync(HttpContext context, string name, string reference)
    {
        var digest = reference.Contains(':', StringComparison.Ordinal) ? reference
            : _tags.TryGetValue(name, out var tags) && tags.TryGetValue(reference, out var d) ? d : null;
        if (digest is null || !_manifests.TryGetValue((name, digest), out var manifest))
        {
            context.Response.StatusCode = 404;
            await Error(context, "MANIFEST_UNKNOWN", "manifest unknown");
            return;
        }

        if (context.Request.Method == "DELETE")
        {
            if (!DeleteEnabled)
            {
                context.Response.StatusCode = 405;
                await Error(context, "UNSUPPORTED", "The operation is unsupported.");
                return;
            }

            _manifests.TryRemove((name, digest), out _);
            foreach (var (tag, _) in _tags[name].Where(t => t.Value == digest).ToList())
            {
                _tags[name].TryRemove(tag, out _);
            }

            context.Response.StatusCode = 202;
            return;
        }

        context.Response.ContentType = manifest.MediaType;
        context.Response.Headers["Docker-Content-Digest"] = digest;
        context.Response.ContentLength = manifest.Body.Length;
        if (context.Request.Method == "GET")
        {
            await context.Response.Body.WriteAsync(manifest.Body);
        }
    }

    private async Task PageAsync(HttpContext context, string property, List<string> all, string path, string? name = null)
    {
        var n = int.TryParse(context.Request.Query["n"], out var requested) ? Math.Min(requested, PageSize) : PageSize;
        var last = context.Request.Query["last"].ToString();
        var rest = all.Where(x => string.CompareOrdinal(x, last) > 0).ToList();
        var page = rest.Take(n).ToList();
        if (rest.Count > n)
        {
            context.Response.Headers.Link = $"<{path}?last={Uri.EscapeDataString(page[^1])}&n={n}>; rel=\"next\"";
        }

        context.Response.ContentType = "application/json";
        var body = name is null ? JsonSerializer.Serialize(new Dictionary<string, object> { [property] = page }) : JsonSerializer.Serialize(new Dictionary<string, object> { ["name"] = name, [property] = page });
        await context.Response.WriteAsync(body);
    }

    private async Task TokenAsync(HttpContext context, string authorization)
    {
        TokenScopes.Enqueue(string.Join(' ', context.Request.Query["scope"].ToArray()));
        if (authorization != BasicValue(User, Password))
        {
            context.Response.StatusCode = 401;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"details\":\"incorrect username or password\"}");
            return;
        }

        var token = $"tok-{Interlocked.Increment(ref _tokens)}";
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { token, expires_in = 300 }));
    }

    private bool Authorized(string authorization) => Auth switch
    {
        FakeAuth.Basic => authorization == BasicValue(User, Password),
        FakeAuth.Bearer => authorization.StartsWith("Bearer tok-", StringComparison.Ordinal),
        _ => true,
    };

    private static string ScopeFor(string method, string path) =>
        path == "/v2/" ? "" :
        path == "/v2/_catalog" ? "registry:catalog:*" :
        $"repository:{RepositoryOf(path)}:{(method == "DELETE" ? "delete" : "pull")}";

    private static string RepositoryOf(string path)
    {
        foreach (var marker in new[] { "/manifests/", "/blobs/", "/tags/list" })
        {
            var i = path.LastIndexOf(marker, StringComparison.Ordinal);
            if (i > 0)
            {
                return path[4..i];
            }
        }

        return "";
    }

    public static string BasicValue(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static Task Error(HttpContext context, string code, string message)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { errors = new[] { new { code, message } } }));
    }
}
