namespace BuildPool.Gateway.Routing;

/// <summary>
/// Applies a pool's ordered key sources (<c>spec.routing.keySources</c>) to a build's inputs;
/// the first source that yields a key wins. Immutable, so one instance serves all builds.
/// </summary>
public sealed class KeyExtractor
{
    private readonly RoutingKeySource[] _sources;
    private readonly string? _domain;

    public KeyExtractor(IEnumerable<RoutingKeySource> sources, string? domain)
    {
        ArgumentNullException.ThrowIfNull(sources);
        _sources = [.. sources.Distinct()];
        _domain = string.IsNullOrWhiteSpace(domain) ? null : domain.Trim();
    }

    /// <summary>The API's default order: the most explicit source first.</summary>
    public static IReadOnlyList<RoutingKeySource> DefaultSources { get; } =
    [
        RoutingKeySource.Authority,
        RoutingKeySource.ClientCertificate,
        RoutingKeySource.ImageName,
        RoutingKeySource.CacheRef,
        RoutingKeySource.SessionDirectory,
    ];

    public IReadOnlyList<RoutingKeySource> Sources => _sources;

    /// <summary>
    /// On a TLS connection, why a key taken from <c>:authority</c> may not be used: the header names
    /// a host under the routing domain that is not the server name (SNI) the client verified the
    /// gateway's certificate for. A header costs nothing to forge; the name the handshake checked
    /// does. Null when the authority yields no key or names the SNI host.
    /// </summary>
    public string? AuthorityRefusal(string? authority, string? serverName) =>
        KeyParsers.FromAuthority(authority, _domain) is not null && !KeyParsers.SameHost(authority, serverName)
            ? $":authority {authority} does not match the TLS server name {serverName ?? "(none sent)"}: under TLS a routing key comes only from the name the client verified; connect with that host name (buildx remote driver option servername=)"
            : null;

    /// <summary>The first key found in source order; false when no configured source yields one.</summary>
    public bool TryExtract(in KeyInputs inputs, out RoutingKey key)
    {
        foreach (var source in _sources)
        {
            var value = source switch
            {
                RoutingKeySource.Authority =>
                    KeyParsers.FromAuthority(inputs.Authority, _domain) ?? KeyParsers.FromAuthority(inputs.ServerName, _domain),
                RoutingKeySource.ClientCertificate => KeyParsers.FromClientIdentity(inputs.ClientIdentity),
                RoutingKeySource.ImageName => inputs.Solve.ImageName,
                RoutingKeySource.CacheRef => inputs.Solve.CacheRef,
                RoutingKeySource.SessionDirectory => KeyParsers.FromSessionSharedKey(inputs.SessionSharedKey),
                _ => null,
            };

            if (!string.IsNullOrEmpty(value))
            {
                key = new RoutingKey(value, source);
                return true;
            }
        }

        key = default;
        return false;
    }
}
