using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Operator.Security;

/// <summary>
/// A pool CA: an ECDSA P-256 key and a self-signed certificate. Each TLS pool has two: the
/// tenant CA (the gateway's server certificate and every tenant's client certificate; the
/// gateway's client CA) and the internal CA (builders' server certificate and the gateway's and
/// operator's client certificate; the only CA builders trust). A certificate from another pool's
/// CA, or from the other CA of the same pool, is refused where it does not belong.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>Certificates are valid from a little before "now", so a node whose clock lags accepts them.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Extended key usage id-kp-serverAuth.</summary>
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";

    /// <summary>Extended key usage id-kp-clientAuth.</summary>
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    private static readonly Oid ServerAuthOid = new(ServerAuth);
    private static readonly Oid ClientAuthOid = new(ClientAuth);

    private CertificateAuthority(X509Certificate2 certificate)
    {
        Certificate = certificate;
        CertificatePem = certificate.ExportCertificatePem();
    }

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate alone, in PEM: what clients and servers trust.</summary>
    public string CertificatePem { get; }

    /// <summary>A new CA valid for <paramref name="validity"/> from <paramref name="now"/>.</summary>
    public static (CertificateAuthority Authority, string PrivateKeyPem) Create(string commonName, DateTime now, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(commonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var start = Truncate(now) - ClockSkew;
        using var created = request.CreateSelfSigned(start, Truncate(now) + validity);
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        var certificate = X509Certificate2.CreateFromPem(created.ExportCertificatePem(), keyPem);
        return (new CertificateAuthority(certificate), keyPem);
    }

    /// <summary>The CA stored in a Secret's ca.crt and ca.key; null when either is missing or unreadable.</summary>
    public static CertificateAuthority? TryLoad(string? certificatePem, string? privateKeyPem)
    {
        if (string.IsNullOrEmpty(certificatePem) || string.IsNullOrEmpty(privateKeyPem))
        {
            return null;
        }

        try
        {
            var certificate = X509Certificate2.CreateFromPem(certificatePem, privateKeyPem);
            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                return null;
            }

            return new CertificateAuthority(certificate);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// Issues a leaf certificate for <paramref name="profile"/> with a fresh P-256 key and a random
    /// positive 16-byte serial number. It never outlives the CA.
    /// </summary>
    public IssuedCertificate Issue(LeafProfile profile, DateTime now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(profile);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(profile.CommonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = new OidCollection();
        if (profile.ServerAuth)
        {
            usages.Add(ServerAuthOid);
        }

        if (profile.ClientAuth)
        {
            usages.Add(ClientAuthOid);
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        if (profile.DnsNames.Count > 0)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var name in profile.DnsNames)
            {
                names.AddDnsName(name);
            }

            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));

        var notBefore = Truncate(now) - ClockSkew;
        var notAfter = Truncate(now) + validity;
        var caNotAfter = Certificate.NotAfter.ToUniversalTime();
        if (notAfter > caNotAfter)
        {
            notAfter = caNotAfter;
        }

        using var certificate = request.Create(Certificate, notBefore, notAfter, NewSerialNumber());
        return new IssuedCertificate(
            certificate.ExportCertificatePem(),
            key.ExportPkcs8PrivateKeyPem(),
            certificate.SerialNumber,
            certificate.NotBefore.ToUniversalTime(),
            certificate.NotAfter.ToUniversalTime());
    }

    /// <summary>True when <paramref name="leaf"/> was signed by this CA and is valid at <paramref name="now"/>.</summary>
    public bool Issued(X509Certificate2 leaf, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now.ToLocalTime();
        chain.ChainPolicy.VerificationTimeIgnored = false;
        return chain.Build(leaf)
            && chain.ChainElements.Count == 2
            && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(Certificate.RawDataMemory.Span);
    }

    /// <summary>The DNS names in a certificate's subject alternative name extension.</summary>
    public static IReadOnlyList<string> DnsNamesOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(e => e.EnumerateDnsNames())
            .ToList();
    }

    public void Dispose() => Certificate.Dispose();

    /// <summary>The subject every BuildPool certificate has: <c>CN=&lt;commonName&gt;, O=buildpool.dev</c>.</summary>
    public static X500DistinguishedName Subject(string commonName)
    {
        // The builder writes the RDNs in reverse order of adding: this gives O then CN in DER,
        // which reads "CN=<commonName>, O=buildpool.dev" in .NET and the gateway.
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        builder.AddOrganizationName("buildpool.dev");
        return builder.Build();
    }

    // Positive (top bit clear) and without a leading zero byte, so the DER encoding keeps all
    // 16 bytes and SerialNumber reads back as 32 hex digits.
    private static byte[] NewSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        return serial;
    }

    private static DateTime Truncate(DateTime time) =>
        new(time.ToUniversalTime().Ticks - (time.ToUniversalTime().Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
}
