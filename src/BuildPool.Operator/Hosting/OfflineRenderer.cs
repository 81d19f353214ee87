using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Children;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Volumes;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Hosting;

/// <summary>
/// Everything the operator would create for a set of pools and volumes, computed offline with
/// the same planners the reconcilers use (for GitOps review and diffs). Volumes are shown as
/// they start: the first warmBuilders builders running, the others at zero replicas.
/// </summary>
public static class OfflineRenderer
{
    public static IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Render(IReadOnlyList<BuilderPool> pools, IReadOnlyList<CacheVolume> volumes, OperatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(volumes);
        var output = new List<IKubernetesObject<V1ObjectMeta>>();
        var errors = new List<string>();
        foreach (var pool in pools)
        {
            Default(pool.Metadata);
            var invalid = BuilderPoolValidator.Validate(pool);
            if (invalid.Count > 0)
            {
                errors.AddRange(invalid.Select(e => $"BuilderPool {pool.Metadata.Name}: {e}"));
                continue;
            }

            // TLS as the reconciler would set it up, without the Secrets' digests (no data offline).
            var plan = BuilderPoolPlanner.Plan(pool, options, tls: GatewayTls.For(pool, endpointBinding: null, digest: null));
            var credentials = BuilderCredentialsPlanner.Plan(pool, [], name => new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = pool.Metadata.NamespaceProperty } })! with { Digest = null };
            output.AddRange(plan.Volumes);
            // The gateway's Role may patch this Lease by name but not create it: without it, a
            // pool applied from this output has a gateway whose signals (demand, last used,
            // forks) all fail until the operator creates it.
            output.Add(plan.SignalLease);
            output.Add(plan.GatewayServiceAccount);
            output.Add(plan.GatewayRole);
            output.Add(plan.GatewayRoleBinding);
            output.Add(plan.Service);
            output.Add(plan.Gateway);
            output.Add(plan.BuilderDisruptionBudget);
            output.Add(plan.BuilderNetworkPolicy);

            var poolVolumes = plan.Volumes
                .Concat(volumes.Where(v => v.Spec.Pool == pool.Metadata.Name && (v.Metadata.NamespaceProperty ?? pool.Metadata.NamespaceProperty) == pool.Metadata.NamespaceProperty))
                .ToList();
            var warm = poolVolumes.Select(v => v.Metadata.Name).Order(StringComparer.Ordinal).Take(pool.Spec.Scaling.WarmBuilders).ToHashSet(StringComparer.Ordinal);
            foreach (var volume in poolVolumes)
            {
                Default(volume.Metadata, pool.Metadata.NamespaceProperty);
                var settings = CacheVolumeSettings.Resolve(volume, pool, credentials);
                if (settings.Errors.Count > 0)
                {
                    errors.AddRange(settings.Errors.Select(e => $"CacheVolume {volume.Metadata.Name}: {e}"));
                    continue;
                }

                var volumePlan = BuilderChildrenPlanner.Plan(volume, pool, settings.BuildkitdToml, warm.Contains(volume.Metadata.Name), credentials, PullSecrets.For(options));
                output.Add(volumePlan.Claim);
                output.Add(volumePlan.Config);
                output.Add(volumePlan.Service);
                output.Add(volumePlan.Builder);
            }
        }

        foreach (var orphan in volumes.Where(v => !pools.Any(p => p.Metadata.Name == v.Spec.Pool)))
        {
            errors.Add($"CacheVolume {orphan.Metadata.Name}: spec.pool: BuilderPool \"{orphan.Spec.Pool}\" is not among the inputs");
        }

        if (errors.Count > 0)
        {
            throw new InvalidDataException(string.Join(Environment.NewLine, errors));
        }

        return output;
    }

    private static void Default(V1ObjectMeta metadata, string? @namespace = null)
    {
        metadata.NamespaceProperty ??= @namespace ?? "default";
    }
}
