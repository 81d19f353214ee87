using BuildPool.Gateway.Isolation;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Pool mode: a client identity is untrusted when its live ClientAccess binding says
/// <c>untrusted: true</c>, or when <c>--untrusted-identity</c> patterns (<paramref name="also"/>) match it.
/// Reads the directory's current snapshot, so a binding's change applies to the next build.
/// </summary>
public sealed class TenantUntrustedIdentities(ITenantDirectory directory, IUntrustedIdentities? also = null) : IUntrustedIdentities
{
    /// <inheritdoc/>
    public bool IsUntrusted(string identity) =>
        directory.FindByIdentity(identity)?.Untrusted == true || also?.IsUntrusted(identity) == true;

    /// <inheritdoc/>
    public bool AnyUntrusted => directory.Tenants.Any(t => t.Untrusted) || also?.AnyUntrusted == true;
}
