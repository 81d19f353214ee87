using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>A throw-away self-signed server certificate written as PEM files, for the TLS gateway.</summary>
internal sealed class BenchCertificate : IDisposable
{
    public const string ServerName = "gateway.bench.test";

    private readonly string _directory = Directory.CreateTempSubdirectory("buildpool-bench-tls-").FullName;

    public BenchCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + ServerName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(ServerName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(CertificatePath, Certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    public X509Certificate2 Certificate { get; }

    public string CertificatePath => Path.Combine(_directory, "tls.crt");

    public string KeyPath => Path.Combine(_directory, "tls.key");

    public void Dispose()
    {
        Certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
