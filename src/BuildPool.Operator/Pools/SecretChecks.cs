using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Pure: Secrets a pool's builders mount must exist before a builder is created: a pod stuck in
/// ContainerCreating says far less than a Stalled condition naming the field and the Secret.
/// </summary>
public static class SecretChecks
{
    /// <summary>What is missing, each naming its field.</summary>
    /// <param name="pool">The pool whose builder settings name the Secrets.</param>
    /// <param name="secret">A Secret of the pool's namespace by name, from the operator's Secret cache.</param>
    public static IReadOnlyList<string> Missing(BuilderPool pool, Func<string, V1Secret?> secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Referenced(pool)
            .Where(r => secret(r.Secret) is null)
            .Select(r => $"{r.Field}: Secret \"{r.Secret}\" not found in namespace {pool.Metadata.NamespaceProperty}")
            .ToList();
    }

    /// <summary>The Secrets checked, each with the field naming it: a Secret among them arriving enqueues the pool.</summary>
    public static IEnumerable<(string Field, string Secret)> Referenced(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        foreach (var reference in RegistryFiles.ReferencedSecrets(pool.Spec.Builder).DistinctBy(r => r.Field))
        {
            yield return reference;
        }

        if (pool.Spec.Endpoint.Tls is { Mode: TlsMode.FromSecret, SecretName: { Length: > 0 } tlsSecret })
        {
            yield return ("spec.endpoint.tls.secretName", tlsSecret);
        }
    }
}
