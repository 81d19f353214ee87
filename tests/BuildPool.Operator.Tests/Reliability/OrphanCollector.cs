using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// Plays the part of kube-controller-manager's garbage collector that the emulator lacks: it
/// deletes objects whose controller owner no longer exists. The emulator collects dependents only
/// when their owner is deleted, but a controller reconciling from a cache that has not yet seen
/// the owner's deletion can create a child after that (client-go controllers can too); a real
/// cluster's collector removes such a child shortly after, and so does this.
/// </summary>
internal static class OrphanCollector
{
    private static readonly string Managed = $"{WellKnown.ManagedByLabel}={WellKnown.ManagedByValue}";

    /// <summary>Deletes the orphans; returns their descriptions.</summary>
    public static async Task<IReadOnlyList<string>> CollectAsync(IKubernetes kubernetes, string ns)
    {
        // Children first, owners after: an owner created after the children were listed would
        // otherwise make its new children look orphaned.
        var children = new List<(string Kind, V1ObjectMeta Meta, Func<Task<string?>> CurrentUid, Func<Task> Delete)>();
        async Task Gather<T>(string kind, string? selector)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            var client = new ResourceClient<T>(kubernetes);
            foreach (var o in await client.ListAsync(ns, selector))
            {
                children.Add((kind, o.Metadata, async () => (await client.GetAsync(ns, o.Metadata.Name))?.Metadata.Uid, () => client.DeleteAsync(ns, o.Metadata.Name)));
            }
        }

        await Gather<CacheVolume>("CacheVolume", null);
        await Gather<V1Deployment>("Deployment", Managed);
        await Gather<V1Service>("Service", Managed);
        await Gather<V1ConfigMap>("ConfigMap", Managed);
        await Gather<V1ServiceAccount>("ServiceAccount", Managed);
        await Gather<V1Role>("Role", Managed);
        await Gather<V1RoleBinding>("RoleBinding", Managed);
        await Gather<V1PodDisruptionBudget>("PodDisruptionBudget", Managed);
        await Gather<V1NetworkPolicy>("NetworkPolicy", Managed);
        var owners = (await new ResourceClient<BuilderPool>(kubernetes).ListAsync(ns)).Select(p => p.Metadata.Uid)
            .Concat((await new ResourceClient<CacheVolume>(kubernetes).ListAsync(ns)).Select(v => v.Metadata.Uid))
            .ToHashSet(StringComparer.Ordinal);

        var collected = new List<string>();
        foreach (var (kind, meta, currentUid, delete) in children)
        {
            var refs = meta.OwnerReferences ?? [];
            // An owner deleted after the children were listed takes its children with it at once
            // (the emulator collects synchronously): only a child still there now is an orphan.
            if (refs.Count > 0 && refs.All(r => !owners.Contains(r.Uid)) && meta.DeletionTimestamp is null && await currentUid() == meta.Uid)
            {
                await delete();
                collected.Add($"{kind} {meta.Name} (owner {refs[0].Kind} {refs[0].Name} {refs[0].Uid} is gone)");
            }
        }

        return collected;
    }
}
