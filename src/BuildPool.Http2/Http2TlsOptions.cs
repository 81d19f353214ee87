using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Http2;

/// <summary>TLS settings for connections to a backend (buildkitd with <c>--tlscacert</c> and friends).</summary>
public sealed class Http2TlsOptions
{
    /// <summary>SNI and certificate name to expect; defaults to the backend host.</summary>
    public string? ServerName { get; set; }

    /// <summary>Client certificates (with private keys) for mutual TLS.</summary>
    public X509Certificate2Collection? ClientCertificates { get; set; }

    /// <summary>
    /// When set, the server certificate must chain to one of these roots and the system store
    /// is ignored: builders usually have certificates from a private CA.
    /// </summary>
    public X509Certificate2Collection? TrustedRoots { get; set; }
}
