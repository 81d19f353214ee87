using System.Net;
using System.Net.Http.Headers;
using System.Text;
using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Client;

/// <summary>
/// Raw HTTP access to the API server that reuses an authenticated <see cref="Kubernetes"/> client's
/// connection pool and credentials. The generated client has no way to reach an arbitrary path
/// (its <c>CustomObjects</c> API cannot address core kinds), and list/watch and CRUD for any kind
/// need exactly that.
/// </summary>
public sealed class KubernetesTransport
{
    private readonly HttpClient _http;
    private readonly Uri _baseUri;
    private readonly Func<HttpRequestMessage, CancellationToken, Task>? _authenticate;

    /// <summary>Uses the client's HTTP pipeline (TLS, client certificates) and its credentials (bearer tokens, refreshed by the client).</summary>
    public KubernetesTransport(IKubernetes kubernetes)
    {
        ArgumentNullException.ThrowIfNull(kubernetes);
        var client = kubernetes as Kubernetes
            ?? throw new ArgumentException($"Raw API access needs a {typeof(Kubernetes).FullName}; got {kubernetes.GetType()}.", nameof(kubernetes));
        _http = client.HttpClient;
        _baseUri = client.BaseUri;
        var credentials = client.Credentials;
        if (credentials is not null)
        {
            _authenticate = credentials.ProcessHttpRequestAsync;
        }
    }

    /// <summary>For tests and tools that talk to an unauthenticated endpoint such as an API emulator.</summary>
    public KubernetesTransport(HttpClient http, Uri baseUri)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUri);
        _http = http;
        _baseUri = baseUri;
    }

    /// <summary>
    /// Sends a request and returns the response as soon as its headers arrive (watches stream).
    /// A non-success status becomes a <see cref="KubernetesApiException"/> (409 →
    /// <see cref="ConflictException"/>, 404 → <see cref="NotFoundException"/>) unless it is in
    /// <paramref name="allowedFailures"/>, in which case the caller gets the response.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(
        HttpMethod method,
        string pathAndQuery,
        HttpContent? content,
        CancellationToken cancellationToken,
        params HttpStatusCode[] allowedFailures)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(allowedFailures);
        using var request = new HttpRequestMessage(method, new Uri(_baseUri, pathAndQuery)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_authenticate is not null)
        {
            await _authenticate(request, cancellationToken).ConfigureAwait(false);
        }

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode || Array.IndexOf(allowedFailures, response.StatusCode) >= 0)
        {
            return response;
        }

        using (response)
        {
            var status = await ReadStatusAsync(response, cancellationToken).ConfigureAwait(false);
            throw KubernetesApiException.Create(response.StatusCode, status, $"{method} {pathAndQuery}");
        }
    }

    public async Task<TResult> SendJsonAsync<TResult>(
        HttpMethod method,
        string pathAndQuery,
        object? body,
        string contentType,
        CancellationToken cancellationToken)
    {
        using var content = body is null ? null : JsonContent(body, contentType);
        using var response = await SendAsync(method, pathAndQuery, content, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return KubernetesJson.Deserialize<TResult>(stream);
        }
    }

    internal static StringContent JsonContent(object body, string contentType)
    {
        var json = body as string ?? KubernetesJson.Serialize(body);
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType) { CharSet = "utf-8" };
        return content;
    }

    private static async Task<V1Status?> ReadStatusAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return string.IsNullOrWhiteSpace(text) ? null : KubernetesJson.Deserialize<V1Status>(text);
        }
        catch (System.Text.Json.JsonException)
        {
            // Proxies in front of the API server answer errors in HTML; the status code still tells the story.
            return null;
        }
    }
}
