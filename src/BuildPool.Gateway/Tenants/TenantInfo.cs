using BuildPool.Api.Units;

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

    /// <summary>
    /// The tenant's own key space: its binding's name (unique in the pool's namespace). A key the
    /// tenant's build names becomes <c>&lt;KeyNamespace&gt;@&lt;key&gt;</c> unless it is one of
    /// <see cref="SharedKeys"/>. Null in static mode, where keys stay as the client names them.
    /// </summary>
    public string? KeyNamespace { get; init; }

    /// <summary>The binding's <c>spec.clientAccess.sharedKeys</c>: keys used as they are, shared with others.</summary>
    public IReadOnlyList<string>? SharedKeys { get; init; }

    /// <summary>The key this tenant's build of <paramref name="key"/> routes by: namespaced, or shared.</summary>
    public string Scope(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return KeyNamespace is not { } space || IsShared(key) ? key : RoutingKeyName.Scoped(space, key);
    }

    /// <summary>True when the key space of this tenant holds <paramref name="key"/> (a routing key as placement sees it).</summary>
    public bool Owns(string key) => KeyNamespace is { } space && RoutingKeyName.BelongsTo(key, space);

    /// <summary>How many characters <see cref="Scope"/> puts in front of <paramref name="key"/>.</summary>
    public int PrefixLength(string key) => KeyNamespace is not { } space || IsShared(key) ? 0 : space.Length + 1;

    private bool IsShared(string key)
    {
        if (SharedKeys is { } shared)
        {
            foreach (var candidate in shared)
            {
                if (string.Equals(candidate, key, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
