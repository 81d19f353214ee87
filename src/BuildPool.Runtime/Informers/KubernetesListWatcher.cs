using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Informers;

/// <summary>
/// List and watch for any <c>[KubernetesEntity]</c> kind over the raw API paths
/// (<c>/api/v1/...</c> for core, <c>/apis/{group}/{version}/...</c> otherwise), parsing the
/// newline-delimited JSON watch stream with <see cref="KubernetesJson"/>.
/// </summary>
public sealed class KubernetesListWatcher<T> : IListWatcher<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    // Pages keep a large initial list from holding one huge response in memory.
    private const int PageSize = 500;

    private readonly KubernetesTransport _transport;
    private readonly string _collectionPath;
    private readonly string _selectors;

    /// <param name="namespace">Watch one namespace, or all when null.</param>
    public KubernetesListWatcher(KubernetesTransport transport, string? @namespace = null, string? labelSelector = null, string? fieldSelector = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        _collectionPath = ResourceDescriptor.For<T>().CollectionPath(@namespace);
        var selectors = new StringBuilder();
        if (!string.IsNullOrEmpty(labelSelector))
        {
            selectors.Append("&labelSelector=").Append(Uri.EscapeDataString(labelSelector));
        }

        if (!string.IsNullOrEmpty(fieldSelector))
        {
            selectors.Append("&fieldSelector=").Append(Uri.EscapeDataString(fieldSelector));
        }

        _selectors = selectors.ToString();
    }

    public KubernetesListWatcher(IKubernetes kubernetes, string? @namespace = null, string? labelSelector = null, string? fieldSelector = null)
        : this(new KubernetesTransport(kubernetes), @namespace, labelSelector, fieldSelector)
    {
    }

    public async Task<ListResult<T>> ListAsync(CancellationToken cancellationToken)
    {
        var items = new List<T>();
        string? continueToken = null;
        string resourceVersion;
        do
        {
            var query = string.Create(CultureInfo.InvariantCulture, $"?limit={PageSize}{_selectors}");
            if (continueToken is not null)
            {
                query += "&continue=" + Uri.EscapeDataString(continueToken);
            }

            KubernetesList<T> page;
            try
            {
                page = await _transport.SendJsonAsync<KubernetesList<T>>(HttpMethod.Get, _collectionPath + query, null, "application/json", cancellationToken).ConfigureAwait(false);
            }
            catch (KubernetesApiException e) when (e.IsGone && continueToken is not null)
            {
                // The continue token expired between pages: start over, this time in one piece.
                items.Clear();
                continueToken = null;
                page = await _transport.SendJsonAsync<KubernetesList<T>>(HttpMethod.Get, _collectionPath + "?" + _selectors.TrimStart('&'), null, "application/json", cancellationToken).ConfigureAwait(false);
            }

            if (page.Items is not null)
            {
                items.AddRange(page.Items);
            }

            resourceVersion = page.Metadata?.ResourceVersion ?? string.Empty;
            continueToken = string.IsNullOrEmpty(page.Metadata?.ContinueProperty) ? null : page.Metadata.ContinueProperty;
        }
        while (continueToken is not null);

        return new ListResult<T>(items, resourceVersion);
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Like client-go, ask the server to end the watch after a random 5-10 minutes so that
        // replicas do not all reconnect at once and a silently dead connection is noticed.
        var timeoutSeconds = 300 + Random.Shared.Next(300);
        var query = string.Create(
            CultureInfo.InvariantCulture,
            $"?watch=1&allowWatchBookmarks=true&timeoutSeconds={timeoutSeconds}&resourceVersion={Uri.EscapeDataString(resourceVersion)}{_selectors}");
        using var response = await _transport.SendAsync(HttpMethod.Get, _collectionPath + query, null, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    yield return ParseLine(line);
                }
            }
        }
    }

    internal static WatchEvent<T> ParseLine(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var type = root.GetProperty("type").GetString();
        var body = root.GetProperty("object");
        return type switch
        {
            "ADDED" => new WatchEvent<T>(WatchEventType.Added, KubernetesJson.Deserialize<T>(body)),
            "MODIFIED" => new WatchEvent<T>(WatchEventType.Modified, KubernetesJson.Deserialize<T>(body)),
            "DELETED" => new WatchEvent<T>(WatchEventType.Deleted, KubernetesJson.Deserialize<T>(body)),
            "BOOKMARK" => new WatchEvent<T>(WatchEventType.Bookmark, KubernetesJson.Deserialize<T>(body)),
            "ERROR" => new WatchEvent<T>(WatchEventType.Error, null, KubernetesJson.Deserialize<V1Status>(body)),
            _ => throw new JsonException($"Unknown watch event type '{type}'."),
        };
    }
}
