using k8s;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;

namespace BuildPool.Runtime.Leadership;

/// <summary>The client's <see cref="LeaseLock"/>, writing under a field manager of our choosing so <c>managedFields</c> names the operator.</summary>
internal sealed class FieldManagedLeaseLock(IKubernetes client, string @namespace, string name, string identity, string? fieldManager)
    : LeaseLock(client, @namespace, name, identity)
{
    protected override Task<V1Lease> CreateMetaObjectAsync(IKubernetes client, V1Lease obj, string namespaceParameter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.CoordinationV1.CreateNamespacedLeaseAsync(obj, namespaceParameter, fieldManager: fieldManager, cancellationToken: cancellationToken);
    }

    protected override Task<V1Lease> ReplaceMetaObjectAsync(IKubernetes client, V1Lease obj, string name, string namespaceParameter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.CoordinationV1.ReplaceNamespacedLeaseAsync(obj, name, namespaceParameter, fieldManager: fieldManager, cancellationToken: cancellationToken);
    }
}
