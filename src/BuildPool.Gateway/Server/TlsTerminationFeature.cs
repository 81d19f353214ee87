using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace BuildPool.Gateway.Server;

/// <summary>What one terminated TLS connection tells Kestrel and the request handler, read once after the handshake.</summary>
internal sealed class TlsTerminationFeature(SslStream ssl) : ITlsConnectionFeature, ITlsHandshakeFeature, ITlsApplicationProtocolFeature
{
    public X509Certificate2? ClientCertificate { get; set; } = ssl.RemoteCertificate switch
    {
        null => null,
        X509Certificate2 certificate => certificate,
        var other => X509CertificateLoader.LoadCertificate(other.GetRawCertData()),
    };

    public SslProtocols Protocol { get; } = ssl.SslProtocol;

    public TlsCipherSuite? NegotiatedCipherSuite { get; } = ssl.NegotiatedCipherSuite;

    /// <summary>The SNI name the client sent (empty without one); authority keys fall back to it.</summary>
    public string HostName { get; } = ssl.TargetHostName;

    /// <summary>Always h2: the endpoint speaks HTTP/2 only, whether ALPN said so or the client assumed it.</summary>
    public ReadOnlyMemory<byte> ApplicationProtocol => SslApplicationProtocol.Http2.Protocol;

    // Obsolete (SYSLIB0058) in favour of NegotiatedCipherSuite, yet still members of the
    // interface; nothing in the gateway or Kestrel's HTTP/2 reads them.
#pragma warning disable SYSLIB0058
    CipherAlgorithmType ITlsHandshakeFeature.CipherAlgorithm => CipherAlgorithmType.None;

    int ITlsHandshakeFeature.CipherStrength => 0;

    HashAlgorithmType ITlsHandshakeFeature.HashAlgorithm => HashAlgorithmType.None;

    int ITlsHandshakeFeature.HashStrength => 0;

    ExchangeAlgorithmType ITlsHandshakeFeature.KeyExchangeAlgorithm => ExchangeAlgorithmType.None;

    int ITlsHandshakeFeature.KeyExchangeStrength => 0;
#pragma warning restore SYSLIB0058

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);
}
