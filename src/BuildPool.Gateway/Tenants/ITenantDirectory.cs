namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Who may build through the gateway, by client certificate serial number. In pool mode the
/// pool's ClientAccess SecretBindings fill it (<see cref="SecretBindingWatcher"/>); every call
/// of a build asks it again, so deleting a binding refuses its certificate on connections that
/// are already open. Routing (issue 7: untrusted builds) reads <see cref="TenantInfo.Untrusted"/>
/// from the tenant the gateway resolved for a call (<c>CallOrigin.Tenant</c>).
/// </summary>
public interface ITenantDirectory
{
    /// <summary>True once the directory has read its source; until then no certificate can be checked.</summary>
    bool IsSynced { get; }

    /// <summary>What a refusal names as the place bindings are looked up (e.g. <c>BuilderPool ci/pool</c>).</summary>
    string Scope { get; }

    /// <summary>The tenants now, in no particular order; a renewed binding is here once per accepted serial.</summary>
    IReadOnlyCollection<TenantInfo> Tenants { get; }

    /// <summary>Raised after each change, with the new tenants (admission picks up changed limits).</summary>
    event Action<IReadOnlyCollection<TenantInfo>>? Changed;

    /// <summary>
    /// The tenant whose live binding carries <paramref name="serialNumber"/>, as its current
    /// certificate or as the previous one of a renewal until that one's notAfter; null when none does.
    /// </summary>
    TenantInfo? Find(string serialNumber);

    /// <summary>
    /// The live tenant with certificate identity <paramref name="identity"/> (the subject CN,
    /// <c>targetNamespace/bindingName</c>); null when none. For policies keyed by identity, such
    /// as untrusted routing: <c>FindByIdentity(id)?.Untrusted == true</c>.
    /// </summary>
    TenantInfo? FindByIdentity(string identity);
}
