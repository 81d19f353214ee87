using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.TestDoubles;

/// <summary>
/// Plays the volume controller and a provisioner: a claim binds at once, unless it names a
/// StorageClass that does not exist; that one stays Pending with the Warning Event a real
/// cluster records (<c>ProvisioningFailed</c>).
/// </summary>
public static class FakeVolumeController
{
    public const string Component = "persistentvolume-controller";

    /// <summary>One round; returns each claim's phase by name. Without <paramref name="bind"/> it only reports them.</summary>
    public static async Task<IReadOnlyDictionary<string, string?>> BindAsync(IKubernetes kubernetes, string @namespace, bool bind)
    {
        var claims = new ResourceClient<V1PersistentVolumeClaim>(kubernetes);
        var phases = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var claim in await claims.ListAsync(@namespace))
        {
            phases[claim.Metadata.Name] = claim.Status?.Phase;
            if (!bind || claim.Status?.Phase == "Bound" || claim.Metadata.DeletionTimestamp is not null)
            {
                continue;
            }

            var className = claim.Spec?.StorageClassName;
            var missing = className is { Length: > 0 } && await new ResourceClient<V1StorageClass>(kubernetes).GetAsync(null, className) is null;
            if (missing)
            {
                await RecordOnceAsync(kubernetes, claim, "ProvisioningFailed", $"storageclass.storage.k8s.io \"{className}\" not found");
            }

            var phase = missing ? "Pending" : "Bound";
            if (claim.Status?.Phase == phase)
            {
                continue;
            }

            claim.Status = new V1PersistentVolumeClaimStatus
            {
                Phase = phase,
                AccessModes = missing ? null : claim.Spec?.AccessModes,
                Capacity = missing ? null : claim.Spec?.Resources?.Requests,
            };
            try
            {
                await claims.ReplaceStatusAsync(claim);
                phases[claim.Metadata.Name] = phase;
            }
            catch (ConflictException)
            {
                // The operator wrote it meanwhile; the next round sets it.
            }
        }

        return phases;
    }

    private static async Task RecordOnceAsync(IKubernetes kubernetes, V1PersistentVolumeClaim claim, string reason, string message)
    {
        var events = new ResourceClient<Corev1Event>(kubernetes);
        var ns = claim.Metadata.NamespaceProperty;
        var existing = await events.ListAsync(ns, labelSelector: null, $"involvedObject.name={claim.Metadata.Name}", CancellationToken.None);
        if (existing.Any(e => e.Reason == reason))
        {
            return;
        }

        var now = DateTime.UtcNow;
        await events.CreateAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = $"{claim.Metadata.Name}.{Guid.NewGuid():N}", NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference { ApiVersion = "v1", Kind = "PersistentVolumeClaim", Name = claim.Metadata.Name, NamespaceProperty = ns, Uid = claim.Metadata.Uid },
            Type = "Warning",
            Reason = reason,
            Message = message,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
            Source = new V1EventSource { Component = Component },
        });
    }
}
