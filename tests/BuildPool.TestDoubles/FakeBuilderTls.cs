using System.Security.Cryptography.X509Certificates;

namespace BuildPool.TestDoubles;

/// <summary>
/// TLS for a <see cref="FakeBuildKitDaemon"/>, as buildkitd serves with <c>--tlscert</c>,
/// <c>--tlskey</c> and <c>--tlscacert</c>: a server certificate, and optionally a CA every
/// client certificate must chain to (then a client without one fails the handshake).
/// </summary>
/// <param name="ServerCertificate">The server certificate with its private key.</param>
/// <param name="ClientCa">When set, clients must present a certificate this CA signed.</param>
public sealed record FakeBuilderTls(X509Certificate2 ServerCertificate, X509Certificate2? ClientCa = null)
{
    /// <summary>
    /// Every CA in the <c>[grpc.tls] ca</c> file; when set it replaces <see cref="ClientCa"/>.
    /// buildkitd appends each PEM block of that file to the pool its TLS server verifies client
    /// certificates against (<c>tls.RequireAndVerifyClientCert</c>).
    /// </summary>
    public X509Certificate2Collection? ClientCaBundle { get; init; }

    /// <summary>
    /// The TLS a buildkitd gets from the files of a rendered <c>[grpc.tls]</c> table: <c>cert</c>,
    /// <c>key</c> and the <c>ca</c> bundle, given as their PEM text (what the mounted Secret holds).
    /// </summary>
    public static FakeBuilderTls FromBuildkitdFiles(string certificatePem, string keyPem, string caBundlePem)
    {
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPem(caBundlePem);
        var pair = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        // Kestrel on Linux wants a certificate whose key it can hand to OpenSSL as a whole.
        var server = X509CertificateLoader.LoadPkcs12(pair.Export(X509ContentType.Pkcs12), null);
        pair.Dispose();
        return new FakeBuilderTls(server) { ClientCaBundle = bundle };
    }

    /// <summary>
    /// What Go's <c>crypto/tls</c> checks of a client certificate under
    /// <c>RequireAndVerifyClientCert</c>: a chain to one of the roots, and an extended key usage
    /// that allows client authentication (a certificate without the extension allows any use).
    /// </summary>
    internal bool Accepts(X509Certificate2 certificate)
    {
        var roots = ClientCaBundle ?? (ClientCa is null ? [] : [ClientCa]);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        if (!chain.Build(certificate))
        {
            return false;
        }

        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()).ToList();
        return usages.Count == 0 || usages.Any(u => u.Value is "1.3.6.1.5.5.7.3.2" or "2.5.29.37.0");
    }
}
