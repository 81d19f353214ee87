using System.Collections.Concurrent;
using System.Net;

namespace BuildPool.Host.Dev;

/// <summary>
/// The cluster DNS of <c>buildpool dev</c>: a Service name (<c>name.namespace.svc[.cluster.local]</c>)
/// and port resolve to the loopback port of a ready pod behind it, as the endpoints the local
/// kubelet writes say. Other names are left to the machine's resolver.
/// </summary>
public sealed class ServiceDirectory
{
    private readonly ConcurrentDictionary<(string Namespace, string Name), IReadOnlyDictionary<int, IPEndPoint>> _services = new();

    /// <summary>Where a connection to <paramref name="endPoint"/> goes; null: not a Service name here (use DNS).</summary>
    public EndPoint? Resolve(DnsEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var parts = endPoint.Host.TrimEnd('.').Split('.');
        if (parts.Length < 3 || parts[2] != "svc" || (parts.Length != 3 && !(parts.Length == 5 && parts[3] == "cluster" && parts[4] == "local")))
        {
            return null;
        }

        // A Service with no ready pod refuses connections, as a ClusterIP without endpoints does.
        return _services.TryGetValue((parts[1], parts[0]), out var ports) && ports.TryGetValue(endPoint.Port, out var target)
            ? target
            : new IPEndPoint(IPAddress.Loopback, 0);
    }

    internal void Set(string @namespace, string name, IReadOnlyDictionary<int, IPEndPoint> ports) => _services[(@namespace, name)] = ports;

    internal void Remove(string @namespace, string name) => _services.TryRemove((@namespace, name), out _);

    internal IEnumerable<(string Namespace, string Name)> Known => _services.Keys;
}
