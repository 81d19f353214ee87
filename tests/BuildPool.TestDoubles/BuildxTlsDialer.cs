using System.Net;
using System.Net.Security;
using BuildPool.Http2;

namespace BuildPool.TestDoubles;

/// <summary>
/// Opens TLS the way buildx's remote driver does (<see cref="ClientTlsStyle.Buildx"/>): a TCP
/// connection wrapped in a TLS client of its own, with no ALPN protocols unless a test asks for
/// some, and nothing checked about ALPN afterwards. The caller then speaks HTTP/2 with prior knowledge.
/// </summary>
public static class BuildxTlsDialer
{
    /// <param name="applicationProtocols">ALPN protocols to offer; empty (buildx) offers none.</param>
    public static async Task<SslStream> ConnectAsync(
        DnsEndPoint endPoint, Http2TlsOptions tls, IReadOnlyList<SslApplicationProtocol> applicationProtocols, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(applicationProtocols);
        var network = await Http2Connector.ConnectAsync(endPoint, tls: null, cancellationToken);
        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            // Like loadTLS: ServerName (the endpoint host when servername= is not given), the CA
            // as the only root, and the client certificate when there is one; but no NextProtos.
            var options = Http2Connector.ClientAuthentication(endPoint, tls);
            options.ApplicationProtocols = applicationProtocols.Count == 0 ? null : [.. applicationProtocols];
            await ssl.AuthenticateAsClientAsync(options, cancellationToken);
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }
}
