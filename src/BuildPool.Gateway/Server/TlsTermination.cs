using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Server;

/// <summary>
/// Terminates TLS on the gateway's HTTP/2 endpoint in place of Kestrel's <c>UseHttps</c>, which
/// refuses HTTP/2 over TLS unless ALPN negotiated <c>h2</c>. buildx's remote driver wraps its TCP
/// connection in TLS itself without offering ALPN and then speaks HTTP/2 with prior knowledge
/// (buildkitd's gRPC server accepts that), so this offers <c>h2</c>, accepts a handshake that
/// negotiated <c>h2</c> or nothing, refuses any other protocol, and hands the decrypted bytes
/// to Kestrel's HTTP/2 as if ALPN had said <c>h2</c>. The request handler sees the client
/// certificate and the SNI name through the same connection features as before.
/// </summary>
internal sealed class TlsTermination
{
    private readonly SslStreamCertificateContext _serverCertificate;
    private readonly X509Certificate2Collection? _clientAuthorities;
    private readonly bool _requireClientCertificate;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<X509Certificate2> _untrusted;
    private readonly Action<X509Certificate2> _notForClientAuth;

    /// <param name="untrusted">Called for a client certificate that does not chain to the client CA, before the handshake fails.</param>
    /// <param name="notForClientAuth">Called for a client certificate that chains to the client CA but lacks the clientAuth usage, before the handshake fails.</param>
    public TlsTermination(GatewayOptions options, string certificatePath, TimeProvider time, ILogger logger, Action<X509Certificate2> untrusted, Action<X509Certificate2> notForClientAuth)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.TlsHandshakeTimeout, TimeSpan.Zero, nameof(options.TlsHandshakeTimeout));
        // Built once: every handshake sends the same certificate, and offline keeps the gateway
        // from fetching intermediates at start.
        _serverCertificate = SslStreamCertificateContext.Create(
            X509Certificate2.CreateFromPemFile(certificatePath, options.TlsKeyPath), additionalCertificates: null, offline: true);
        if (options.ClientCaPath is { } caPath)
        {
            _clientAuthorities = [];
            _clientAuthorities.ImportFromPemFile(caPath);
        }

        _requireClientCertificate = options.RequireClientCertificate;
        _handshakeTimeout = options.TlsHandshakeTimeout;
        _time = time;
        _logger = logger;
        _untrusted = untrusted;
        _notForClientAuth = notForClientAuth;
    }

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var transport = connection.Transport;
        var ssl = new SslStream(new TransportStream(transport), leaveInnerStreamOpen: false);
        await using (ssl)
        {
            if (!await AuthenticateAsync(connection, ssl))
            {
                return;
            }

            var negotiated = ssl.NegotiatedApplicationProtocol;
            if (negotiated != default && negotiated != SslApplicationProtocol.Http2)
            {
                TlsTerminationLog.ProtocolRefused(_logger, connection.RemoteEndPoint?.ToString(), negotiated.ToString());
                return;
            }

            var feature = new TlsTerminationFeature(ssl);
            connection.Features.Set<ITlsConnectionFeature>(feature);
            connection.Features.Set<ITlsHandshakeFeature>(feature);
            // Kestrel serves HTTP/2 over TLS only when ALPN said h2; this endpoint speaks nothing
            // else, so a client that negotiated no protocol gets the same answer as one that did.
            connection.Features.Set<ITlsApplicationProtocolFeature>(feature);
            var decrypted = new TlsDuplexPipe(ssl, connection.Features.Get<IMemoryPoolFeature>()?.MemoryPool);
            connection.Transport = decrypted;
            try
            {
                await next(connection);
            }
            finally
            {
                // Kestrel completes the transport it gave out; the decrypted pipes are ours to end
                // before the SslStream under them goes away.
                connection.Transport = transport;
                await decrypted.CompleteAsync();
            }
        }
    }

    private async Task<bool> AuthenticateAsync(ConnectionContext connection, SslStream ssl)
    {
        // A client that opens connections and never finishes the handshake holds a connection
        // slot and buffers; it gets this long.
        using var timeout = new CancellationTokenSource(_handshakeTimeout, _time);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, connection.ConnectionClosed);
        try
        {
            await ssl.AuthenticateAsServerAsync(Options(), handshake.Token);
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            TlsTerminationLog.HandshakeTimedOut(_logger, connection.RemoteEndPoint?.ToString(), _handshakeTimeout);
        }
        catch (OperationCanceledException)
        {
            // The client went away or the gateway is stopping.
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException)
        {
            TlsTerminationLog.HandshakeFailed(_logger, connection.RemoteEndPoint?.ToString(), ex.Message);
        }

        return false;
    }

    private SslServerAuthenticationOptions Options() => new()
    {
        ServerCertificateContext = _serverCertificate,
        ApplicationProtocols = [SslApplicationProtocol.Http2],
        // Optional certificates are still requested and checked when presented: a certificate
        // from another CA fails the handshake either way. Whether its binding still exists is
        // asked per call.
        ClientCertificateRequired = _clientAuthorities is not null,
        RemoteCertificateValidationCallback = ValidateClientCertificate,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        // RFC 9113 section 9.2.1: no renegotiation under HTTP/2.
        AllowRenegotiation = false,
        EnabledSslProtocols = SslProtocols.None,
    };

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_clientAuthorities is null)
        {
            return true;
        }

        if (certificate is null)
        {
            return !_requireClientCertificate;
        }

        // The system's roots mean nothing here (errors says what they think): only the client CA counts.
        var presented = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        own.ChainPolicy.CustomTrustStore.AddRange(_clientAuthorities);
        if (!own.Build(presented))
        {
            _untrusted(presented);
            return false;
        }

        // A server certificate from the same CA (a builder's, the gateway's own) chains just as well.
        if (!Tenants.ClientAuthUsage.Allows(presented))
        {
            _notForClientAuth(presented);
            return false;
        }

        return true;
    }
}
