using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace BuildPool.Operator.Registry;

/// <summary>
/// The parts of the registry HTTP API v2 (the OCI distribution API) that cache retention needs:
/// ping, catalog, tag lists, manifests, config blobs and manifest deletes, with bearer-token and
/// basic auth. Every failure is a <see cref="RegistryException"/> whose kind a status can name.
/// </summary>
/// <remarks>
/// Auth follows the registry's challenge: a request goes out with what worked before for its
/// scope; on 401 the <c>WWW-Authenticate</c> header says whether to fetch a token from the realm
/// (with the credentials as basic auth, if any) or to send the credentials directly, and the
/// request is sent once more. Tokens are cached per scope until shortly before they expire.
/// </remarks>
public sealed class RegistryClient : IDisposable
{
    private const int PageSize = 100;
    private const int MaxErrorText = 300;
    private static readonly string AcceptManifests = string.Join(", ", RegistryMediaTypes.Manifests);

    private readonly HttpClient _http;
    private readonly RegistryCredentials? _credentials;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (string Token, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private volatile bool _basic;

    /// <param name="endpoint">Scheme, host and port of the registry, like http://127.0.0.1:5000.</param>
    /// <param name="credentials">Used for basic auth or to obtain tokens; null tries anonymously.</param>
    /// <param name="handler">Transport; null uses a handler with a 10 s connect timeout.</param>
    public RegistryClient(Uri endpoint, RegistryCredentials? credentials = null, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = new Uri(endpoint.GetLeftPart(UriPartial.Authority) + "/");
        _credentials = credentials;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: handler is null)
        {
            BaseAddress = Endpoint,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public Uri Endpoint { get; }

    /// <summary>
    /// The endpoint for a registry host: plain HTTP when asked, or for loopback hosts (as docker and
    /// BuildKit treat localhost registries), HTTPS otherwise.
    /// </summary>
    public static Uri EndpointFor(string host, bool plainHttp)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        var http = plainHttp || IsLoopback(host);
        return new Uri($"{(http ? "http" : "https")}://{host}/");
    }

    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = host.StartsWith('[') ? host[1..host.IndexOf(']', StringComparison.Ordinal)] : host.Split(':')[0];
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(name, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary><c>GET /v2/</c>: the registry answers and, with credentials, accepts them.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "v2/"), scope: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every repository in <c>/v2/_catalog</c>; many hosted registries refuse this (Unauthorized or NotFound).</summary>
    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<string>();
        string? next = $"v2/_catalog?n={PageSize}";
        while (next is not null)
        {
            var page = next;
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, page), "registry:catalog:*", cancellationToken).ConfigureAwait(false);
            result.AddRange(await ReadStringsAsync(response, "repositories", cancellationToken).ConfigureAwait(false));
            next = NextPage(response, page);
        }

        return result;
    }

    /// <summary>Tags of a repository, following <c>Link</c> pages; a repository that does not exist has none.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(repository);
        var result = new List<string>();
        string? next = $"v2/{repository}/tags/list?n={PageSize}";
        while (next is not null)
        {
            var page = next;
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, page), PullScope(repository), cancellationToken, HttpStatusCode.NotFound).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return result;
            }

            result.AddRange(await ReadStringsAsync(response, "tags", cancellationToken).ConfigureAwait(false));
            next = NextPage(response, page);
        }

        return result;
    }

    /// <summary><c>HEAD</c> a manifest by tag: its digest, or null if the tag does not exist.</summary>
    public async Task<string?> ResolveDigestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, reference), PullScope(repository), cancellationToken, HttpStatusCode.NotFound).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { Length: > 0 } digest)
        {
            return digest;
        }

        // Some registries omit the header on HEAD; the digest of the body is the manifest's digest.
        return (await GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false))?.Digest;
    }

    /// <summary><c>GET</c> a manifest or index by tag or digest; null if it does not exist.</summary>
    public async Task<RegistryManifest?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Get, repository, reference), PullScope(repository), cancellationToken, HttpStatusCode.NotFound).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.FirstOrDefault() is { Length: > 0 } d
            ? d
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        return RegistryManifest.Parse(body, response.Content.Headers.ContentType?.MediaType, digest, response.Content.Headers.LastModified);
    }

    /// <summary><c>GET</c> a small blob (a config), refusing anything larger than <paramref name="maxBytes"/>.</summary>
    public async Task<(byte[] Content, DateTimeOffset? LastModified)?> GetBlobAsync(string repository, string digest, long maxBytes = 16 << 20, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/blobs/{digest}"), PullScope(repository), cancellationToken, HttpStatusCode.NotFound).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new RegistryException(RegistryErrorKind.Failed, $"blob {digest} in {repository} is {response.Content.Headers.ContentLength} bytes, more than the {maxBytes} read for a config");
        }

        return (await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), response.Content.Headers.LastModified);
    }

    /// <summary>
    /// <c>DELETE /v2/&lt;name&gt;/manifests/&lt;digest&gt;</c>: removes the manifest and every tag
    /// that points at it. False if it was already gone.
    /// </summary>
    public async Task<bool> DeleteManifestAsync(string repository, string digest, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(digest);
        if (!digest.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("Deletes go by digest (sha256:…), never by tag.", nameof(digest));
        }

        using var response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Delete, $"v2/{repository}/manifests/{digest}"),
            $"repository:{repository}:delete",
            cancellationToken,
            HttpStatusCode.NotFound,
            HttpStatusCode.MethodNotAllowed).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
        {
            throw new RegistryException(
                RegistryErrorKind.DeleteDisabled,
                $"{Endpoint.Authority}: the registry does not allow deletes; set REGISTRY_STORAGE_DELETE_ENABLED=true (storage.delete.enabled in its config){await ErrorTextAsync(response, cancellationToken).ConfigureAwait(false)}");
        }

        return response.StatusCode != HttpStatusCode.NotFound;
    }

    public void Dispose() => _http.Dispose();

    private static string PullScope(string repository) => $"repository:{repository}:pull";

    private static HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, $"v2/{repository}/manifests/{reference}");
        request.Headers.TryAddWithoutValidation("Accept", AcceptManifests);
        return request;
    }

    private static async Task<IEnumerable<string>> ReadStringsAsync(HttpResponseMessage response, string property, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
                return doc.RootElement.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
                    : [];
            }
        }
        catch (JsonException ex)
        {
            throw new RegistryException(RegistryErrorKind.Failed, $"{response.RequestMessage?.RequestUri}: not a JSON {property} list: {ex.Message}", ex);
        }
    }

    /// <summary>The next page from <c>Link: &lt;/v2/…?last=x&amp;n=100&gt;; rel="next"</c>, relative to the registry.</summary>
    private string? NextPage(HttpResponseMessage response, string current)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var open = link.IndexOf('<', StringComparison.Ordinal);
            var close = link.IndexOf('>', StringComparison.Ordinal);
            if (open < 0 || close < open || !link.Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase) && !link.Contains("rel=next", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var target = new Uri(new Uri(Endpoint, current), link[(open + 1)..close]);
            if (!string.Equals(target.Authority, Endpoint.Authority, StringComparison.OrdinalIgnoreCase))
            {
                // A page on another host would carry our credentials elsewhere; stop instead.
                return null;
            }

            var next = target.PathAndQuery.TrimStart('/');
            return next == current ? null : next;
        }

        return null;
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, string? scope, CancellationToken cancellationToken, params HttpStatusCode[] allowed)
    {
        var response = await SendOnceAsync(build, Authorization(scope), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var challenge = AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
            var retry = await AuthorizeAsync(challenge, scope, cancellationToken).ConfigureAwait(false);
            if (retry is not null)
            {
                response.Dispose();
                response = await SendOnceAsync(build, retry, cancellationToken).ConfigureAwait(false);
            }
        }

        if (response.IsSuccessStatusCode || allowed.Contains(response.StatusCode))
        {
            return response;
        }

        using (response)
        {
            var text = await ErrorTextAsync(response, cancellationToken).ConfigureAwait(false);
            var what = $"{response.RequestMessage?.Method} {Endpoint.Authority}{response.RequestMessage?.RequestUri?.AbsolutePath}";
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new RegistryException(
                    RegistryErrorKind.Unauthorized,
                    $"{what}: {(int)response.StatusCode} {response.ReasonPhrase}{text}{(_credentials is null ? " (no credentials given)" : "")}"),
                HttpStatusCode.NotFound => new RegistryException(RegistryErrorKind.NotFound, $"{what}: 404 Not Found{text}"),
                _ => new RegistryException(RegistryErrorKind.Failed, $"{what}: {(int)response.StatusCode} {response.ReasonPhrase}{text}"),
            };
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> build, AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        using var request = build();
        request.Headers.Authorization = authorization;
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"{Endpoint.Authority}: no answer within {_http.Timeout.TotalSeconds:0} s", ex);
        }
    }

    private RegistryException Unreachable(HttpRequestException ex)
    {
        var reason = ex.InnerException switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData } => "unknown host",
            SocketException s => s.Message,
            AuthenticationException a => $"TLS handshake failed ({a.Message}); for a plain-HTTP registry use http",
            _ => ex.Message,
        };
        return new RegistryException(RegistryErrorKind.Unreachable, $"{Endpoint.Authority}: {reason}", ex);
    }

    private AuthenticationHeaderValue? Authorization(string? scope)
    {
        if (_basic && _credentials is not null)
        {
            return Basic(_credentials);
        }

        lock (_lock)
        {
            return scope is not null && _tokens.TryGetValue(scope, out var t) && t.Expires > _time.GetUtcNow()
                ? new AuthenticationHeaderValue("Bearer", t.Token)
                : null;
        }
    }

    /// <summary>What to send after a 401, or null when nothing more can be tried.</summary>
    private async Task<AuthenticationHeaderValue?> AuthorizeAsync(AuthChallenge? challenge, string? scope, CancellationToken cancellationToken)
    {
        if (challenge is { IsBearer: true, Realm: { Length: > 0 } realm })
        {
            var wanted = challenge.Scope ?? scope;
            var token = await FetchTokenAsync(realm, challenge.Service, wanted, cancellationToken).ConfigureAwait(false);
            return new AuthenticationHeaderValue("Bearer", token);
        }

        if (_credentials is not null && (challenge is null || challenge.IsBasic) && !_basic)
        {
            _basic = true;
            return Basic(_credentials);
        }

        return null;
    }

    private async Task<string> FetchTokenAsync(string realm, string? service, string? scope, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        foreach (var s in (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            query.Add("scope=" + Uri.EscapeDataString(s));
        }

        if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("http" or "https"))
        {
            throw new RegistryException(RegistryErrorKind.Failed, $"{Endpoint.Authority}: token realm \"{realm}\" is not an http(s) URL");
        }

        var url = realm + (query.Count == 0 ? "" : (realm.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join('&', query));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (_credentials is not null)
        {
            request.Headers.Authorization = Basic(_credentials);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException(RegistryErrorKind.Unreachable, $"token service {realmUri.Authority}: unreachable: {ex.Message}", ex);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new RegistryException(
                    RegistryErrorKind.Unauthorized,
                    $"token service {realmUri.Authority} refused {(_credentials is null ? "anonymous access" : $"user \"{_credentials.Username}\"")} for scope \"{scope}\": {(int)response.StatusCode} {response.ReasonPhrase}{await ErrorTextAsync(response, cancellationToken).ConfigureAwait(false)}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new RegistryException(RegistryErrorKind.Failed, $"token service {realmUri.Authority}: {(int)response.StatusCode} {response.ReasonPhrase}{await ErrorTextAsync(response, cancellationToken).ConfigureAwait(false)}");
            }

            try
            {
                using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
                var root = doc.RootElement;
                var token = (root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null)
                    ?? (root.TryGetProperty("access_token", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null);
                if (string.IsNullOrEmpty(token))
                {
                    throw new RegistryException(RegistryErrorKind.Failed, $"token service {realmUri.Authority}: answer has no token");
                }

                // The spec's default lifetime is 60 s; renew a little early so a request never carries a stale one.
                var lifetime = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var seconds) && seconds > 0 ? seconds : 60;
                if (scope is not null)
                {
                    lock (_lock)
                    {
                        _tokens[scope] = (token, _time.GetUtcNow().AddSeconds(Math.Max(1, lifetime - 10)));
                    }
                }

                return token;
            }
            catch (JsonException ex)
            {
                throw new RegistryException(RegistryErrorKind.Failed, $"token service {realmUri.Authority}: answer is not JSON: {ex.Message}", ex);
            }
        }
    }

    private static AuthenticationHeaderValue Basic(RegistryCredentials credentials) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")));

    /// <summary>The registry's own words: <c>{"errors":[{"code","message"}]}</c> or the start of the body, as ": …".</summary>
    private static async Task<string> ErrorTextAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = response.RequestMessage?.Method == HttpMethod.Head ? "" : await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return "";
        }

        if (string.IsNullOrWhiteSpace(body))
        {
            return "";
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                var parts = errors.EnumerateArray()
                    .Where(e => e.ValueKind == JsonValueKind.Object)
                    .Select(e => $"{Text(e, "code")}: {Text(e, "message")}".Trim(' ', ':'))
                    .Where(p => p.Length > 0)
                    .ToList();
                if (parts.Count > 0)
                {
                    return ": " + string.Join("; ", parts);
                }
            }

            if (doc.RootElement.ValueKind == JsonValueKind.Object && (Text(doc.RootElement, "details") ?? Text(doc.RootElement, "message") ?? Text(doc.RootElement, "error")) is { Length: > 0 } single)
            {
                return ": " + single;
            }
        }
        catch (JsonException)
        {
        }

        var flat = body.ReplaceLineEndings(" ").Trim();
        return ": " + (flat.Length > MaxErrorText ? flat[..MaxErrorText] + "…" : flat);
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
