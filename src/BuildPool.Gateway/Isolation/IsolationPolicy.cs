namespace BuildPool.Gateway.Isolation;

/// <summary>
/// Which builds are untrusted: their routing key matches one of the pool's
/// <c>spec.routing.untrustedKeys</c> (swapped live by discovery), or their client identity is
/// untrusted (an <see cref="IUntrustedIdentities"/> pattern, or a tenant whose ClientAccess
/// SecretBinding says <c>untrusted: true</c>). Such a build runs only on an isolated fork of its
/// key's volume. Identity is the boundary: key patterns match names the client chooses, so they
/// are a hint for pools without tenants. While any identity is untrusted, a client without a
/// certificate is untrusted too (it may be an untrusted tenant that left its certificate out).
/// </summary>
public sealed class IsolationPolicy
{
    private readonly IUntrustedIdentities? _identities;
    private GlobPattern[] _keys;

    public IsolationPolicy(IEnumerable<string>? untrustedKeys = null, IUntrustedIdentities? identities = null)
    {
        _keys = Compile(untrustedKeys);
        _identities = identities;
    }

    /// <summary>True when no key pattern and no identity source is configured: nothing is ever isolated.</summary>
    public bool IsEmpty => Volatile.Read(ref _keys).Length == 0 && _identities is null;

    /// <summary>Replaces the key patterns (the pool's spec.routing.untrustedKeys changed).</summary>
    public void SetUntrustedKeys(IEnumerable<string>? patterns) => Volatile.Write(ref _keys, Compile(patterns));

    /// <summary>
    /// Why a build with <paramref name="key"/> from <paramref name="identity"/> (resolved to
    /// <paramref name="tenant"/> in pool mode) is untrusted, or null when it is trusted.
    /// </summary>
    public string? UntrustedBecause(string? key, string? identity, Tenants.TenantInfo? tenant = null)
    {
        if (tenant is { Untrusted: true })
        {
            return $"tenant {tenant.AdmissionKey} is bound with clientAccess.untrusted";
        }

        if (tenant is null && string.IsNullOrEmpty(identity) && _identities?.AnyUntrusted == true)
        {
            return "client without a certificate while the pool has untrusted identities; only a certificate shows a client is trusted";
        }

        if (key is not null)
        {
            foreach (var pattern in Volatile.Read(ref _keys))
            {
                if (pattern.IsMatch(key))
                {
                    return $"key matches untrusted pattern {pattern.Pattern}";
                }
            }
        }

        return identity is { Length: > 0 } && _identities?.IsUntrusted(identity) == true ? $"client identity {identity} is untrusted" : null;
    }

    private static GlobPattern[] Compile(IEnumerable<string>? patterns) =>
        [.. (patterns ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => new GlobPattern(p.Trim()))];
}
