using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Secrets a pool's builders mount must exist before a builder is created: a pod stuck in
/// ContainerCreating says far less than a Stalled condition naming the field and the Secret.
/// Read live (not cached): the operator does not watch every Secret in the cluster.
/// </summary>
public static class SecretChecks
{
    public static async Task<IReadOnlyList<string>> MissingAsync(BuilderPool pool, ResourceClient<V1Secret> secrets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(secrets);
        var missing = new List<string>();
        foreach (var (field, name) in RegistryFiles.ReferencedSecrets(pool.Spec.Builder).DistinctBy(r => r.Field))
        {
            if (await secrets.GetAsync(pool.Metadata.NamespaceProperty, name, cancellationToken) is null)
            {
                missing.Add($"{field}: Secret \"{name}\" not found in namespace {pool.Metadata.NamespaceProperty}");
            }
        }

        if (pool.Spec.Endpoint.Tls is { Mode: TlsMode.FromSecret, SecretName: { Length: > 0 } tlsSecret }
            && await secrets.GetAsync(pool.Metadata.NamespaceProperty, tlsSecret, cancellationToken) is null)
        {
            missing.Add($"spec.endpoint.tls.secretName: Secret \"{tlsSecret}\" not found in namespace {pool.Metadata.NamespaceProperty}");
        }

        return missing;
    }
}
