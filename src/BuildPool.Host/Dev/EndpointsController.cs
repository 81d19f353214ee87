using System.Globalization;
using System.Net;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Host.Dev;

/// <summary>
/// The endpoints controller of <c>buildpool dev</c>: each Service's Endpoints list the local pods
/// its selector matches (ready ones as addresses, the others as not ready) at their loopback
/// ports, and <see cref="ServiceDirectory"/> resolves the Service's name to a ready one.
/// </summary>
internal sealed class EndpointsController(ResourceClient<V1Service> services, ResourceClient<V1Endpoints> endpointsClient, ServiceDirectory directory)
{
    private readonly ServiceDirectory _services = directory;
    private readonly Dictionary<string, string> _writtenEndpoints = new(StringComparer.Ordinal);

    public async Task SyncAsync(IReadOnlyCollection<LocalPod> pods, CancellationToken cancellationToken)
    {
        var live = new HashSet<(string, string)>();
        foreach (var service in await services.ListAsync(cancellationToken: cancellationToken))
        {
            if (service.Spec?.Selector is not { Count: > 0 } selector)
            {
                continue;
            }

            var ns = service.Metadata.NamespaceProperty;
            var name = service.Metadata.Name;
            live.Add((ns, name));
            var matching = pods.Where(p => p.Namespace == ns && p.Container is not null && Matches(selector, p)).ToList();
            var ports = new Dictionary<int, IPEndPoint>();
            var endpointPorts = new List<Corev1EndpointPort>();
            foreach (var port in service.Spec.Ports ?? [])
            {
                var target = port.TargetPort?.Value ?? port.Port.ToString(CultureInfo.InvariantCulture);
                if (matching.FirstOrDefault(p => p.NamedPorts.ContainsKey(target)) is { } pod)
                {
                    var local = pod.NamedPorts[target];
                    endpointPorts.Add(new Corev1EndpointPort { Name = port.Name, Port = local, Protocol = port.Protocol ?? "TCP" });
                    if (pod.Ready)
                    {
                        ports[port.Port] = new IPEndPoint(IPAddress.Loopback, local);
                    }
                }
            }

            _services.Set(ns, name, ports);
            var addresses = matching.Where(p => p.Ready).Select(Address).ToList();
            var notReady = matching.Where(p => !p.Ready).Select(Address).ToList();
            var endpoints = new V1Endpoints
            {
                ApiVersion = "v1",
                Kind = "Endpoints",
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = service.Metadata.Labels },
                Subsets = matching.Count == 0 || endpointPorts.Count == 0
                    ? []
                    : [new V1EndpointSubset { Addresses = addresses.Count > 0 ? addresses : null, NotReadyAddresses = notReady.Count > 0 ? notReady : null, Ports = endpointPorts }],
            };
            var json = KubernetesJson.Serialize(endpoints);
            var key = Key(ns, name);
            if (_writtenEndpoints.TryGetValue(key, out var written) && written == json)
            {
                continue;
            }

            var existing = await endpointsClient.GetAsync(ns, name, cancellationToken);
            if (existing is null)
            {
                await endpointsClient.CreateAsync(endpoints, cancellationToken);
            }
            else
            {
                endpoints.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                await endpointsClient.ReplaceAsync(endpoints, cancellationToken);
            }

            _writtenEndpoints[key] = json;
        }

        foreach (var gone in _services.Known.Where(k => !live.Contains(k)).ToList())
        {
            _services.Remove(gone.Namespace, gone.Name);
            _writtenEndpoints.Remove(Key(gone.Namespace, gone.Name));
        }

        V1EndpointAddress Address(LocalPod p) => new() { Ip = "127.0.0.1", NodeName = LocalKubelet.NodeName, TargetRef = new V1ObjectReference { Kind = "Pod", Name = p.Name, NamespaceProperty = p.Namespace } };
    }

    private static bool Matches(IDictionary<string, string> selector, LocalPod pod) =>
        selector.All(s => pod.Labels.TryGetValue(s.Key, out var v) && v == s.Value);

    private static string Key(string? @namespace, string name) => $"{@namespace}/{name}";
}
