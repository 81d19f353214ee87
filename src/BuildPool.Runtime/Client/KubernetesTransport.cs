using System.Net;
using System.Net.Http.Headers;
using System.Text;
using k8s;
using k8s.Models;
using Polly;
using Polly.Retry;

namespace BuildPool.Runtime.Client;

/// <summary>
/// Raw HTTP access to the API server that reuses an authenticated <see cref="Kubernetes"/> client's
/// connection pool and credentials. The generated client has no way to reach an arbitrary path
/// (its <c>CustomObjects</c> API cannot address core kinds), and list/watch and CRUD for any kind
/// need exactly that.
/// </summary>
public sealed class KubernetesTransport
{
    /// <summary>
    /// Reads (GET: get, list, watch) are retried on connection failures, 429 and 5xx with
    /// jittered backoff, waiting as long as the server's Retry-After asks. Writes are not: a
    /// write that failed may have happened, and the controller's own backoff retries the whole
    /// reconcile, which re-reads before it writes again.
    /// </summary>
    private static readonly ResiliencePipeline<HttpResponseMessage> ReadPipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(10),
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                .Handle<HttpRequestException>()
                .HandleResult(r => IsTransient(r.StatusCode)),
            DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
            OnRetry = args =>
            {
                var reason = args.Outcome.Result is { } r ? ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : "connection";
                ClientMetrics.Retries.Add(1, new KeyValuePair<string, object?>("verb", "GET"), new KeyValuePair<string, object?>("reason", reason));
                args.Outcome.Result?.Dispose();
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    private readonly HttpClient _http;
    private readonly Uri _baseUri;
    private readonly Func<HttpRequestMessage, CancellationToken, Task>? _authenticate;

    private readonly string? _fieldManager;

    /// <summary>Uses the client's HTTP pipeline (TLS, client certificates) and its credentials (bearer tokens, refreshed by the client).</summary>
    /// <param name="kubernetes">The authenticated client.</param>
    /// <param name="fieldManager">
    /// Sent as <c>fieldManager</c> on every create, update and patch, so <c>managedFields</c> says
    /// which component wrote a field (<c>buildpool-operator</c>, <c>buildpool-gateway</c>) instead
    /// of the client library's name.
    /// </param>
    public KubernetesTransport(IKubernetes kubernetes, string? fieldManager = null)
    {
        _fieldManager = fieldManager;
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
        var response = method == HttpMethod.Get && content is null
            ? await ReadPipeline.ExecuteAsync(
                static async (state, ct) => await state.Transport.SendOnceAsync(HttpMethod.Get, state.Path, null, ct).ConfigureAwait(false),
                (Transport: this, Path: pathAndQuery),
                cancellationToken).ConfigureAwait(false)
            : await SendOnceAsync(method, pathAndQuery, content, cancellationToken).ConfigureAwait(false);
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

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string pathAndQuery, HttpContent? content, CancellationToken cancellationToken)
    {
        if (_fieldManager is not null && (method == HttpMethod.Post || method == HttpMethod.Put || method == HttpMethod.Patch))
        {
            pathAndQuery += (pathAndQuery.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "fieldManager=" + Uri.EscapeDataString(_fieldManager);
        }

        using var request = new HttpRequestMessage(method, new Uri(_baseUri, pathAndQuery)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_authenticate is not null)
        {
            await _authenticate(request, cancellationToken).ConfigureAwait(false);
        }

        var methodTag = new KeyValuePair<string, object?>("method", method.Method);
        var host = new KeyValuePair<string, object?>("host", _baseUri.Authority);
        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            ClientMetrics.Requests.Add(1, new KeyValuePair<string, object?>("code", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)), methodTag, host);
            return response;
        }
        catch (HttpRequestException)
        {
            ClientMetrics.Requests.Add(1, new KeyValuePair<string, object?>("code", "<error>"), methodTag, host);
            throw;
        }
    }

    private static bool IsTransient(HttpStatusCode code) =>
        code is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    // Null lets Polly use its own backoff.
    private static TimeSpan? RetryAfter(HttpResponseMessage? response) =>
        response?.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta < TimeSpan.FromMinutes(1) ? delta : TimeSpan.FromMinutes(1),
            { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? (wait < TimeSpan.FromMinutes(1) ? wait : TimeSpan.FromMinutes(1)) : TimeSpan.Zero,
            _ => null,
        };

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
