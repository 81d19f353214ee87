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
    /// A binding the operator has not issued for yet grants nothing. A binding whose certificate
    /// was renewed gives a second entry for the previous serial, with <see cref="TenantInfo.AcceptedUntil"/>
    /// set to that certificate's notAfter (the directory refuses it from then on). Sorted by binding
    /// name, each binding's current certificate before its previous one.
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
                if (PreviousOf(binding, tenant) is { } previous)
                {
                    tenants.Add(previous);
                }
            }
        }

        tenants.Sort((a, b) => string.CompareOrdinal(a.Binding, b.Binding) is var byName and not 0
            ? byName
            : (a.AcceptedUntil is null ? 0 : 1) - (b.AcceptedUntil is null ? 0 : 1));
        return tenants;
    }

    /// <summary>
    /// The entry for the previous certificate of <paramref name="binding"/>, whose current one
    /// <paramref name="current"/> is: null when the status names none, names no notAfter (an
    /// unbounded grace would never end), or names the current serial again.
    /// </summary>
    public static TenantInfo? PreviousOf(SecretBinding binding, TenantInfo current)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentNullException.ThrowIfNull(current);
        if (CertificateSerial.Normalize(binding.Status?.PreviousCertificateSerialNumber) is not { Length: > 0 } serial
            || binding.Status?.PreviousCertificateNotAfter is not { } notAfter
            || serial == CertificateSerial.Normalize(current.SerialNumber))
        {
            return null;
        }

        var until = new DateTimeOffset(notAfter.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(notAfter, DateTimeKind.Utc) : notAfter.ToUniversalTime());
        return current with { SerialNumber = serial, AcceptedUntil = until };
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
            KeyNamespace = name,
            SharedKeys = access.SharedKeys is { Count: > 0 } shared ? [.. shared] : null,
        };
    }
}
