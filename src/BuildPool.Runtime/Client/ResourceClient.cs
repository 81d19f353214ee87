using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Client;

/// <summary>
/// Typed CRUD for any <c>[KubernetesEntity]</c> kind, core or custom, through raw API paths.
/// Reconcilers read from informer caches and use this only to write.
/// </summary>
/// <remarks>
/// Replace and status writes send the object's <c>metadata.resourceVersion</c>, so a write based on
/// a stale read fails with <see cref="ConflictException"/>, which the controller requeues quietly.
/// </remarks>
public sealed class ResourceClient<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private const string JsonType = "application/json";
    private const string MergePatchType = "application/merge-patch+json";
    private const string JsonPatchType = "application/json-patch+json";

    private readonly KubernetesTransport _transport;

    public ResourceClient(KubernetesTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _transport = transport;
        Resource = ResourceDescriptor.For<T>();
    }

    public ResourceClient(IKubernetes kubernetes)
        : this(new KubernetesTransport(kubernetes))
    {
    }

    public ResourceDescriptor Resource { get; }

    /// <summary>The object, or <c>null</c> if it does not exist.</summary>
    public async Task<T?> GetAsync(string? @namespace, string name, CancellationToken cancellationToken = default)
    {
        using var response = await _transport.SendAsync(
            HttpMethod.Get, Resource.ObjectPath(@namespace, name), null, cancellationToken, HttpStatusCode.NotFound).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return KubernetesJson.Deserialize<T>(stream);
        }
    }

    public Task<IReadOnlyList<T>> ListAsync(string? @namespace = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        ListAsync(@namespace, labelSelector, fieldSelector: null, cancellationToken);

    /// <summary>Lists with a field selector too (<c>involvedObject.name=x</c> for the Events about one object).</summary>
    public async Task<IReadOnlyList<T>> ListAsync(string? @namespace, string? labelSelector, string? fieldSelector, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(labelSelector))
        {
            query.Add("labelSelector=" + Uri.EscapeDataString(labelSelector));
        }

        if (!string.IsNullOrEmpty(fieldSelector))
        {
            query.Add("fieldSelector=" + Uri.EscapeDataString(fieldSelector));
        }

        var path = Resource.CollectionPath(@namespace) + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty);
        var list = await _transport.SendJsonAsync<KubernetesList<T>>(HttpMethod.Get, path, null, JsonType, cancellationToken).ConfigureAwait(false);
        return list.Items?.ToArray() ?? [];
    }

    /// <summary>Creates the object; 409 (<see cref="ConflictException.IsAlreadyExists"/>) if it exists.</summary>
    public Task<T> CreateAsync(T obj, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        Stamp(obj);
        return _transport.SendJsonAsync<T>(HttpMethod.Post, Resource.CollectionPath(obj.Metadata.NamespaceProperty), obj, JsonType, cancellationToken);
    }

    /// <summary>Replaces the object (not its status); fails with 409 if its resourceVersion is stale.</summary>
    public Task<T> ReplaceAsync(T obj, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        Stamp(obj);
        return _transport.SendJsonAsync<T>(HttpMethod.Put, PathOf(obj), obj, JsonType, cancellationToken);
    }

    /// <summary>
    /// Replaces the status subresource. A 409 (the object changed after the cache saw it) re-reads
    /// the object and, when its spec is the one the status was computed for (same generation),
    /// writes again at the latest resourceVersion, up to <see cref="StatusConflictRetries"/> times,
    /// counted in <c>rest_client_retries_total{reason="conflict"}</c>; the status subresource takes
    /// nothing but status from the body. A changed spec still fails with
    /// <see cref="ConflictException"/>: that status may be wrong for it, and the controller requeues quietly.
    /// </summary>
    public async Task<T> ReplaceStatusAsync(T obj, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        Stamp(obj);
        var path = PathOf(obj) + "/status";
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await _transport.SendJsonAsync<T>(HttpMethod.Put, path, obj, JsonType, cancellationToken).ConfigureAwait(false);
            }
            catch (ConflictException) when (attempt < StatusConflictRetries)
            {
                var latest = await GetAsync(obj.Metadata.NamespaceProperty, obj.Metadata.Name, cancellationToken).ConfigureAwait(false);
                if (latest is null || latest.Metadata.Generation != obj.Metadata.Generation)
                {
                    throw;
                }

                ClientMetrics.Retries.Add(1, new KeyValuePair<string, object?>("verb", "PUT"), new KeyValuePair<string, object?>("reason", "conflict"));
                obj.Metadata.ResourceVersion = latest.Metadata.ResourceVersion;
            }
        }
    }

    /// <summary>How often a status write that met a conflict is re-read and written again.</summary>
    public const int StatusConflictRetries = 3;

    /// <summary>
    /// Applies a JSON merge patch (RFC 7386). <paramref name="patch"/> is serialized with the
    /// Kubernetes JSON settings unless it already is a JSON string. Include
    /// <c>metadata.resourceVersion</c> in the patch to make it conditional.
    /// </summary>
    public Task<T> PatchAsync(string? @namespace, string name, object patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return _transport.SendJsonAsync<T>(HttpMethod.Patch, Resource.ObjectPath(@namespace, name), patch, MergePatchType, cancellationToken);
    }

    /// <summary>
    /// Applies a JSON patch (RFC 6902): a list of operations such as
    /// <c>{ op = "test", path, value }</c> then <c>{ op = "remove", path }</c>, which the API
    /// server applies all or none of (a failed <c>test</c> is 422 Unprocessable Entity).
    /// </summary>
    public Task<T> JsonPatchAsync(string? @namespace, string name, IReadOnlyList<object> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        return _transport.SendJsonAsync<T>(HttpMethod.Patch, Resource.ObjectPath(@namespace, name), operations, JsonPatchType, cancellationToken);
    }

    /// <summary>A JSON merge patch on the status subresource.</summary>
    public Task<T> PatchStatusAsync(string? @namespace, string name, object patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return _transport.SendJsonAsync<T>(HttpMethod.Patch, Resource.ObjectPath(@namespace, name) + "/status", patch, MergePatchType, cancellationToken);
    }

    /// <summary>
    /// Deletes the object with background propagation (owned children are collected by the
    /// garbage collector). Returns <c>false</c> if it did not exist.
    /// </summary>
    public async Task<bool> DeleteAsync(string? @namespace, string name, CancellationToken cancellationToken = default)
    {
        var options = new V1DeleteOptions { PropagationPolicy = "Background" };
        using var content = KubernetesTransport.JsonContent(options, JsonType);
        using var response = await _transport.SendAsync(
            HttpMethod.Delete, Resource.ObjectPath(@namespace, name), content, cancellationToken, HttpStatusCode.NotFound).ConfigureAwait(false);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    private string PathOf(T obj)
    {
        var name = obj.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The {Resource.Kind} has no metadata.name."), nameof(obj));
        }

        return Resource.ObjectPath(obj.Metadata!.NamespaceProperty, name);
    }

    // The server rejects bodies whose apiVersion/kind are missing, and new objects often lack them.
    private void Stamp(T obj)
    {
        obj.ApiVersion ??= Resource.ApiVersion;
        obj.Kind ??= Resource.Kind;
    }
}
