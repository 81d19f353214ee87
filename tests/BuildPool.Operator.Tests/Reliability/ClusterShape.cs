using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// What a namespace must hold once the operator has converged on a set of Hashed pools: exactly
/// the expected children by name (so nothing duplicated, nothing orphaned, nothing missing), each
/// with one controller owner that exists, every CacheVolume with its finalizer, and builders at one
/// replica at most. Claims have no owner on purpose (they outlive Retain pools); the claims of
/// deleted Retain pools are expected to stay.
/// </summary>
internal static class ClusterShape
{
    private static readonly string Managed = $"{WellKnown.ManagedByLabel}={WellKnown.ManagedByValue}";

    public static async Task<IReadOnlyList<string>> DiffAsync(IKubernetes kubernetes, string ns, IReadOnlyCollection<BuilderPool> pools, IEnumerable<string> retainedClaims)
    {
        var problems = new List<string>();
        var livePools = (await new ResourceClient<BuilderPool>(kubernetes).ListAsync(ns)).ToDictionary(p => p.Metadata.Name, StringComparer.Ordinal);
        var volumes = await new ResourceClient<CacheVolume>(kubernetes).ListAsync(ns);
        var volumesByName = volumes.ToDictionary(v => v.Metadata.Name, StringComparer.Ordinal);
        string? PoolUid(string name) => livePools.GetValueOrDefault(name)?.Metadata.Uid;
        string? VolumeUid(string name) => volumesByName.GetValueOrDefault(name)?.Metadata.Uid;

        var liveOwners = livePools.Values.Select(p => p.Metadata.Uid).Concat(volumes.Select(v => v.Metadata.Uid)).ToHashSet(StringComparer.Ordinal);
        var volumeNames = pools.SelectMany(p => Enumerable.Range(0, p.Spec.Assignment.Volumes).Select(i => (Pool: p.Metadata.Name, Volume: ResourceNames.HashedVolume(p.Metadata.Name, i)))).ToList();
        var poolNames = pools.Select(p => p.Metadata.Name).ToList();

        Compare(problems, "BuilderPool", livePools.Values, poolNames.ToDictionary(p => p, _ => (string?)null), liveOwners);
        Compare(problems, "CacheVolume", volumes, volumeNames.ToDictionary(v => v.Volume, v => PoolUid(v.Pool)), liveOwners);
        foreach (var v in volumes.Where(v => v.Metadata.Finalizers?.Contains(WellKnown.VolumeFinalizer) != true))
        {
            problems.Add($"CacheVolume {v.Metadata.Name} lacks its finalizer {WellKnown.VolumeFinalizer}");
        }

        var deployments = await new ResourceClient<V1Deployment>(kubernetes).ListAsync(ns, Managed);
        Compare(problems, "Deployment", deployments, poolNames.Select(p => (ResourceNames.Gateway(p), PoolUid(p)))
            .Concat(volumeNames.Select(v => (ResourceNames.Builder(v.Volume), VolumeUid(v.Volume)))).ToDictionary(x => x.Item1, x => x.Item2), liveOwners);
        foreach (var d in deployments.Where(d => d.Metadata.Labels.Lookup(WellKnown.ComponentLabel) == WellKnown.BuilderComponent && (d.Spec.Replicas ?? 1) > 1))
        {
            problems.Add($"builder Deployment {d.Metadata.Name} has {d.Spec.Replicas} replicas");
        }

        Compare(problems, "Service", await new ResourceClient<V1Service>(kubernetes).ListAsync(ns, Managed),
            poolNames.Select(p => (ResourceNames.GatewayService(p), PoolUid(p)))
                .Concat(volumeNames.Select(v => (ResourceNames.BuilderService(v.Volume), VolumeUid(v.Volume)))).ToDictionary(x => x.Item1, x => x.Item2), liveOwners);
        Compare(problems, "ConfigMap", await new ResourceClient<V1ConfigMap>(kubernetes).ListAsync(ns, Managed),
            volumeNames.ToDictionary(v => ResourceNames.Config(v.Volume), v => VolumeUid(v.Volume)), liveOwners);
        var gatewayOwned = poolNames.ToDictionary(ResourceNames.Gateway, PoolUid);
        Compare(problems, "ServiceAccount", await new ResourceClient<V1ServiceAccount>(kubernetes).ListAsync(ns, Managed), gatewayOwned, liveOwners);
        Compare(problems, "Role", await new ResourceClient<V1Role>(kubernetes).ListAsync(ns, Managed), gatewayOwned, liveOwners);
        Compare(problems, "RoleBinding", await new ResourceClient<V1RoleBinding>(kubernetes).ListAsync(ns, Managed), gatewayOwned, liveOwners);
        var buildersOwned = poolNames.ToDictionary(ResourceNames.BuildersPolicy, PoolUid);
        Compare(problems, "PodDisruptionBudget", await new ResourceClient<V1PodDisruptionBudget>(kubernetes).ListAsync(ns, Managed), buildersOwned, liveOwners);
        Compare(problems, "NetworkPolicy", await new ResourceClient<V1NetworkPolicy>(kubernetes).ListAsync(ns, Managed), buildersOwned, liveOwners);

        var claims = await new ResourceClient<V1PersistentVolumeClaim>(kubernetes).ListAsync(ns, Managed);
        var expectedClaims = volumeNames.Select(v => ResourceNames.StateClaim(v.Volume)).Concat(retainedClaims).ToHashSet(StringComparer.Ordinal);
        SameNames(problems, "PersistentVolumeClaim", claims.Select(c => c.Metadata.Name), expectedClaims);
        foreach (var c in claims.Where(c => c.Metadata.OwnerReferences?.Any(o => o.Controller == true) == true))
        {
            problems.Add($"PersistentVolumeClaim {c.Metadata.Name} has a controller owner; a Retain claim would go with it");
        }

        return problems;
    }

    /// <summary>Names must match; each object must have exactly one controller owner with the expected UID (null: owner not checked).</summary>
    private static void Compare<T>(List<string> problems, string kind, IEnumerable<T> actual, IReadOnlyDictionary<string, string?> expected, IReadOnlySet<string> liveOwners)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var list = actual.ToList();
        SameNames(problems, kind, list.Select(o => o.Metadata.Name), expected.Keys.ToHashSet(StringComparer.Ordinal));
        foreach (var o in list)
        {
            if (o.Metadata.DeletionTimestamp is not null)
            {
                problems.Add($"{kind} {o.Metadata.Name} is being deleted");
            }

            if (kind == "BuilderPool")
            {
                continue;
            }

            var controllers = o.Metadata.OwnerReferences?.Where(r => r.Controller == true).ToList() ?? [];
            if (!expected.TryGetValue(o.Metadata.Name, out var ownerUid))
            {
                // Already reported as unexpected; say also whether it is an orphan.
                if (controllers.Count > 0 && !liveOwners.Contains(controllers[0].Uid))
                {
                    problems.Add($"{kind} {o.Metadata.Name} is an orphan: its owner {controllers[0].Kind} {controllers[0].Name} ({controllers[0].Uid}) does not exist");
                }

                continue;
            }

            if (controllers.Count != 1)
            {
                problems.Add($"{kind} {o.Metadata.Name} has {controllers.Count} controller owners");
            }
            else if (ownerUid is null || controllers[0].Uid != ownerUid)
            {
                problems.Add($"{kind} {o.Metadata.Name} is owned by {controllers[0].Kind} {controllers[0].Name} ({controllers[0].Uid}), which does not exist");
            }
        }
    }

    private static void SameNames(List<string> problems, string kind, IEnumerable<string> actual, IReadOnlySet<string> expected)
    {
        var names = actual.ToList();
        foreach (var duplicate in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"{kind} {duplicate.Key} appears {duplicate.Count()} times");
        }

        var extra = names.Except(expected, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var missing = expected.Except(names, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            problems.Add($"unexpected {kind}: {string.Join(", ", extra)}");
        }

        if (missing.Count > 0)
        {
            problems.Add($"missing {kind}: {string.Join(", ", missing)}");
        }
    }
}
