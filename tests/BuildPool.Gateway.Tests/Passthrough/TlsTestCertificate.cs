using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Gateway.Tests.Passthrough;

/// <summary>A self-signed server certificate for every name under the test domain, made with <see cref="CertificateRequest"/>.</summary>
internal sealed class TlsTestCertificate : IDisposable
{
    public const string Domain = "builds.example.test";

    public TlsTestCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=*.{Domain}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName($"*.{Domain}");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12 so the key is usable by SslStream on every platform.
        Certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Validation for clients: exactly this certificate, whatever name was asked for.</summary>
    public bool Validate(X509Certificate? presented) =>
        presented is not null && presented.GetCertHashString() == Certificate.GetCertHashString();

    public void Dispose() => Certificate.Dispose();
}
