namespace BuildPool.Gateway.Discovery;

/// <summary>
/// The schemes a builder address may carry: <c>tcp://</c> is cleartext HTTP/2 (buildkitd
/// <c>--addr tcp://</c> without TLS flags); <c>tls://</c> and <c>https://</c> mean the builder
/// serves TLS and the gateway dials it with its <c>--upstream-*</c> CA and client certificate.
/// </summary>
public static class UpstreamScheme
{
    private static readonly string[] Cleartext = ["tcp://"];
    private static readonly string[] Tls = ["tls://", "https://"];

    /// <summary>True when <paramref name="address"/> names a TLS scheme.</summary>
    public static bool IsTls(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return Tls.Any(s => address.StartsWith(s, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary><paramref name="address"/> without its known scheme; null when it has none of them.</summary>
    public static string? Strip(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        foreach (var scheme in Cleartext.Concat(Tls))
        {
            if (address.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                return address[scheme.Length..];
            }
        }

        return null;
    }
}
