using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Gateway.Tests.Support;

/// <summary>
/// A private CA made in the test with <see cref="CertificateRequest"/>, issuing server and client
/// certificates the way the operator's managed PKI does (client subject <c>CN=ns/name, O=buildpool.dev</c>),
/// and writing PEM files for the gateway's flags.
/// </summary>
internal sealed class TestPki : IDisposable
{
    private readonly RSA _caKey = RSA.Create(2048);

    public TestPki(string directory, string name = "buildpool-test-ca")
    {
        Directory = directory;
        var request = new CertificateRequest($"CN={name}, O=buildpool.dev", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        CaPath = Path.Combine(directory, name + ".pem");
        File.WriteAllText(CaPath, Ca.ExportCertificatePem());
    }

    public string Directory { get; }

    public X509Certificate2 Ca { get; }

    public string CaPath { get; }

    /// <summary>A server certificate for <paramref name="dnsName"/> (and 127.0.0.1), written as PEM; returns the loaded pair and the paths.</summary>
    public (X509Certificate2 Certificate, string CertPath, string KeyPath) IssueServer(string name, string dnsName) =>
        Issue(name, $"CN={name}", dnsName, serverAuth: true);

    /// <summary>A client certificate for a tenant, subject <c>CN={identity}, O=buildpool.dev</c>.</summary>
    public (X509Certificate2 Certificate, string CertPath, string KeyPath) IssueClient(string fileName, string identity) =>
        Issue(fileName, $"CN={identity}, O=buildpool.dev", dnsName: null, serverAuth: false);

    /// <summary>A tenant-shaped client certificate with exactly <paramref name="usages"/> as extended key usages; none leaves the extension out.</summary>
    public (X509Certificate2 Certificate, string CertPath, string KeyPath) IssueClientWithUsages(string fileName, string identity, params string[] usages) =>
        Issue(fileName, $"CN={identity}, O=buildpool.dev", dnsName: null, serverAuth: false, usages);

    public void Dispose()
    {
        Ca.Dispose();
        _caKey.Dispose();
    }

    private (X509Certificate2, string, string) Issue(string fileName, string subject, string? dnsName, bool serverAuth, string[]? usages = null)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (dnsName is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(dnsName);
            san.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }

        usages ??= [serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2"];
        if (usages.Length > 0)
        {
            var oids = new OidCollection();
            foreach (var usage in usages)
            {
                oids.Add(new Oid(usage));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, critical: false));
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(Ca.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single()));
        using var issued = request.Create(Ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(12));
        var certPath = Path.Combine(Directory, fileName + ".crt");
        var keyPath = Path.Combine(Directory, fileName + ".key");
        File.WriteAllText(certPath, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        using var pair = issued.CopyWithPrivateKey(key);
        return (X509CertificateLoader.LoadPkcs12(pair.Export(X509ContentType.Pkcs12), null), certPath, keyPath);
    }
}
