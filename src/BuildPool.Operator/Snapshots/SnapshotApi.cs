using System.Net;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Snapshots;

/// <summary>
/// VolumeSnapshots through the API, and whether the cluster serves them at all. Discovery is asked
/// at most once per <see cref="RecheckInterval"/>, so a cluster without the snapshot CRDs costs one
/// request now and then, never an error loop, and installing the CRDs later is noticed.
/// </summary>
public sealed class SnapshotApi(KubernetesTransport transport, TimeProvider time)
{
    /// <summary>How long a discovery answer is trusted.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromMinutes(1);

    private readonly ResourceClient<VolumeSnapshot> _client = new(transport);
    private readonly Lock _lock = new();
    private (bool Available, long At)? _known;

    /// <summary>The snapshot client, for create, list and delete.</summary>
    public ResourceClient<VolumeSnapshot> Client => _client;

    /// <summary>True when discovery lists <c>volumesnapshots</c> in <c>snapshot.storage.k8s.io/v1</c>.</summary>
    public async Task<bool> AvailableAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_known is { } known && time.GetElapsedTime(known.At) < RecheckInterval)
            {
                return known.Available;
            }
        }

        var path = $"/apis/{VolumeSnapshot.KubeGroup}/{VolumeSnapshot.KubeApiVersion}";
        using var response = await transport.SendAsync(HttpMethod.Get, path, null, cancellationToken, HttpStatusCode.NotFound);
        var available = false;
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var resources = KubernetesJson.Deserialize<V1APIResourceList>(text);
            available = resources.Resources?.Any(r => r.Name == VolumeSnapshot.KubePluralName) == true;
        }

        lock (_lock)
        {
            _known = (available, time.GetTimestamp());
        }

        return available;
    }

    /// <summary>Forgets the last discovery answer (a create said the resource is gone).</summary>
    public void Forget()
    {
        lock (_lock)
        {
            _known = null;
        }
    }
}
