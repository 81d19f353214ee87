namespace BuildPool.BuildKit.Client;

/// <summary>
/// A buildkitd address as buildx and buildctl write it (<c>tcp://host:port</c>), turned into the
/// HTTP/2 URI gRPC needs. Only TCP is supported: the operator reaches builders through Services.
/// </summary>
public static class BuildKitAddress
{
    public static Uri ToGrpcUri(string address, bool tls)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var text = address.Contains("://", StringComparison.Ordinal) ? address : "tcp://" + address;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new FormatException($"'{address}' is not a BuildKit address; expected tcp://host:port");
        }

        if (uri.Scheme is not ("tcp" or "http" or "https"))
        {
            throw new FormatException($"'{address}' uses scheme '{uri.Scheme}'; only tcp://host:port is supported");
        }

        if (uri.IsDefaultPort || uri.Port <= 0)
        {
            throw new FormatException($"'{address}' has no port; expected tcp://host:port");
        }

        var scheme = tls || uri.Scheme == "https" ? "https" : "http";
        return new UriBuilder(scheme, uri.Host, uri.Port).Uri;
    }
}
