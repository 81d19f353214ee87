namespace BuildPool.Gateway.Tenants;

/// <summary>
/// One tenant the gateway accepts: a live SecretBinding of kind ClientAccess (pool mode), or a
/// client certificate that chains to <c>--client-ca</c> (static mode, where no binding exists).
/// </summary>
/// <param name="Identity">The certificate identity, <c>targetNamespace/bindingName</c> as the operator writes it into the subject CN.</param>
/// <param name="SerialNumber">The serial of the certificate this tenant holds now, uppercase hex without leading zero bytes.</param>
public sealed record TenantInfo(string Identity, string SerialNumber)
{
    /// <summary>
    /// The SecretBinding (<c>namespace/name</c>) that grants access; null in static mode. Per-tenant
    /// admission counts under this name, so a renewed certificate (new serial) keeps its running builds.
    /// </summary>
    public string? Binding { get; init; }

    /// <summary>Running builds this tenant may have at once through one gateway replica; null: no tenant limit.</summary>
    public int? MaxConcurrentBuilds { get; init; }

    /// <summary>
    /// The binding's <c>spec.clientAccess.untrusted</c>: builds of this tenant (fork pull requests,
    /// say) must not write back to shared cache volumes. Always false in static mode.
    /// </summary>
    public bool Untrusted { get; init; }

    /// <summary>
    /// Set on the entry for a binding's previous certificate (<c>status.previousCertificateSerialNumber</c>):
    /// the gateway accepts that serial only before this instant (<c>status.previousCertificateNotAfter</c>),
    /// so copies of a renewed certificate keep working until they expire. Null for the current certificate.
    /// </summary>
    public DateTimeOffset? AcceptedUntil { get; init; }

    /// <summary>The name admission and metrics count this tenant under.</summary>
    public string AdmissionKey => Binding ?? Identity;
}
