using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Http2;

/// <summary>Opens transports for <see cref="Http2ClientConnection"/>: plain TCP (h2c) or TLS with ALPN "h2".</summary>
public static class Http2Connector
{
    /// <param name="endPoint">The peer by name: the TCP target unless <paramref name="resolve"/> says otherwise, and the TLS server name.</param>
    /// <param name="tls">Null for cleartext HTTP/2.</param>
    /// <param name="cancellationToken">Cancels the connect and the handshake.</param>
    /// <param name="resolve">Where to open the socket for a name (null: the usual DNS lookup), as a cluster's DNS would.</param>
    public static async Task<Stream> ConnectAsync(DnsEndPoint endPoint, Http2TlsOptions? tls, CancellationToken cancellationToken, Func<DnsEndPoint, EndPoint?>? resolve = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(resolve?.Invoke(endPoint) ?? endPoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var network = new NetworkStream(socket, ownsSocket: true);
        if (tls is null)
        {
            return network;
        }

        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            var options = ClientAuthentication(endPoint, tls);
            await ssl.AuthenticateAsClientAsync(options, cancellationToken);
            if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            {
                throw new Http2ConnectionException(Http2ErrorCode.InadequateSecurity, $"{endPoint.Host}:{endPoint.Port} did not negotiate ALPN h2.");
            }

            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }

    /// <summary>The TLS client settings for <paramref name="tls"/>: server name, client certificates, private roots, ALPN h2.</summary>
    public static SslClientAuthenticationOptions ClientAuthentication(DnsEndPoint endPoint, Http2TlsOptions tls)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(tls);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = tls.ServerName ?? endPoint.Host,
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            ClientCertificates = tls.ClientCertificates,
            EnabledSslProtocols = SslProtocols.None,
        };
        if (tls.TrustedRoots is { Count: > 0 } roots)
        {
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        }

        return options;
    }
}
