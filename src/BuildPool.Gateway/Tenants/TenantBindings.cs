using BuildPool.Api.V1Alpha1;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Which SecretBindings grant access through a pool's gateway. Pure: every replica derives the
/// same tenants from the same bindings.
/// </summary>
public static class TenantBindings
{
    /// <summary>
    /// The live tenants of <paramref name="pool"/>: bindings of kind ClientAccess naming it, not
    /// being deleted, whose status carries the serial of the certificate the operator issued.
    /// A binding the operator has not issued for yet grants nothing. Sorted by binding name.
    /// </summary>
    public static IReadOnlyList<TenantInfo> From(IEnumerable<SecretBinding> bindings, string pool)
    {
        ArgumentNullException.ThrowIfNull(bindings);
        ArgumentException.ThrowIfNullOrEmpty(pool);
        var tenants = new List<TenantInfo>();
        foreach (var binding in bindings)
        {
            if (ToTenant(binding, pool) is { } tenant)
            {
                tenants.Add(tenant);
            }
        }

        tenants.Sort((a, b) => string.CompareOrdinal(a.Binding, b.Binding));
        return tenants;
    }

    /// <summary>The tenant <paramref name="binding"/> grants on <paramref name="pool"/>, or null when it grants none.</summary>
    public static TenantInfo? ToTenant(SecretBinding binding, string pool)
    {
        ArgumentNullException.ThrowIfNull(binding);
        if (binding.Spec is not { Kind: SecretBindingKind.ClientAccess, ClientAccess: { } access } spec
            || spec.Pool != pool
            || binding.Metadata?.DeletionTimestamp is not null
            || string.IsNullOrEmpty(binding.Metadata?.Name)
            || CertificateSerial.Normalize(binding.Status?.CertificateSerialNumber) is not { Length: > 0 } serial)
        {
            return null;
        }

        var name = binding.Metadata.Name;
        return new TenantInfo($"{access.TargetNamespace}/{name}", serial)
        {
            Binding = $"{binding.Metadata.NamespaceProperty}/{name}",
            MaxConcurrentBuilds = access.MaxConcurrentBuilds,
            Untrusted = access.Untrusted,
        };
    }
}
