using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Host.Dev;

/// <summary>The API objects the local kubelet reads and writes.</summary>
internal sealed class ResourceClients(KubernetesTransport transport)
{
    public ResourceClient<V1Deployment> Deployments { get; } = new(transport);

    public ResourceClient<V1Pod> Pods { get; } = new(transport);

    public ResourceClient<V1Service> Services { get; } = new(transport);

    public ResourceClient<V1Endpoints> Endpoints { get; } = new(transport);

    public ResourceClient<V1PersistentVolumeClaim> Claims { get; } = new(transport);

    public ResourceClient<V1ConfigMap> ConfigMaps { get; } = new(transport);

    public ResourceClient<V1Secret> Secrets { get; } = new(transport);

    public ResourceClient<BuilderPool> Pools { get; } = new(transport);
}
