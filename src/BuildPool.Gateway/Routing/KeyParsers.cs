namespace BuildPool.Gateway.Routing;

/// <summary>
/// Turns the raw values a build offers (host names, certificate identities, session shared keys)
/// into routing keys. Each returns null when the value yields no key, so the extractor moves on
/// to the pool's next source.
/// </summary>
public static class KeyParsers
{
    /// <summary>
    /// The first label of <paramref name="host"/> (an <c>:authority</c> value, port allowed, or a
    /// TLS server name) when the host lies under <paramref name="domain"/>:
    /// <c>proj-a.builds.example.test</c> under <c>builds.example.test</c> gives <c>proj-a</c>.
    /// Hosts outside the domain (older buildx sends <c>localhost</c>) give none.
    /// </summary>
    public static string? FromAuthority(string? host, string? domain)
    {
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(domain))
        {
            return null;
        }

        var name = StripPort(host.AsSpan()).TrimEnd('.');
        var suffix = domain.AsSpan().Trim().Trim('.');
        if (suffix.IsEmpty || name.Length <= suffix.Length + 1 ||
            !name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) ||
            name[name.Length - suffix.Length - 1] != '.')
        {
            return null;
        }

        var under = name[..(name.Length - suffix.Length - 1)];
        var dot = under.IndexOf('.');
        var label = dot < 0 ? under : under[..dot];
        // DNS names are case-insensitive; one project must not become two keys.
        return label.IsEmpty ? null : label.ToString().ToLowerInvariant();
    }

    /// <summary>
    /// The key of a client certificate identity: a bare subject CN or URI SAN is used as it is;
    /// a distinguished name (<c>CN=proj-a, O=ci</c>) gives its CN.
    /// </summary>
    public static string? FromClientIdentity(string? identity)
    {
        if (string.IsNullOrWhiteSpace(identity))
        {
            return null;
        }

        var value = identity.AsSpan().Trim();
        if (!value.Contains("://", StringComparison.Ordinal) && value.Contains('='))
        {
            foreach (var range in value.Split(','))
            {
                var part = value[range].Trim();
                if (part.StartsWith("CN=", StringComparison.OrdinalIgnoreCase))
                {
                    var cn = part[3..].Trim();
                    return cn.IsEmpty ? null : cn.ToString();
                }
            }

            return null;
        }

        return value.ToString();
    }

    /// <summary>
    /// The directory part of a session shared key: buildx sends <c>basename(context) + ":" +
    /// nodeID</c>, and only the node id (after the last colon) differs between machines.
    /// <c>myapp:abc123def4567890</c> gives <c>myapp</c>; a value without a colon is all directory.
    /// </summary>
    public static string? FromSessionSharedKey(string? sharedKey)
    {
        if (string.IsNullOrWhiteSpace(sharedKey))
        {
            return null;
        }

        var colon = sharedKey.LastIndexOf(':');
        var directory = (colon < 0 ? sharedKey.AsSpan() : sharedKey.AsSpan(0, colon)).Trim();
        return directory.IsEmpty ? null : directory.ToString();
    }

    /// <summary>
    /// True when <paramref name="authority"/> (port allowed) names the host <paramref name="serverName"/>
    /// (a TLS server name): DNS names compare without case and without a trailing dot.
    /// </summary>
    public static bool SameHost(string? authority, string? serverName) =>
        !string.IsNullOrEmpty(authority) && !string.IsNullOrEmpty(serverName)
        && StripPort(authority.AsSpan()).TrimEnd('.').Equals(serverName.AsSpan().TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    private static ReadOnlySpan<char> StripPort(ReadOnlySpan<char> host)
    {
        if (host.StartsWith('['))
        {
            // An IPv6 literal is never under a DNS domain; keep it whole so it matches nothing.
            return host;
        }

        var colon = host.LastIndexOf(':');
        return colon < 0 ? host : host[..colon];
    }
}
