using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using BuildPool.TestDoubles;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>The gateway serving TLS (ALPN h2) from PEM files, with client certificates from a private CA.</summary>
public sealed class GatewayTlsTests : IDisposable
{
    private const string ServerName = "gateway.builds.test";

    private readonly string _directory = Directory.CreateTempSubdirectory("buildpool-tls-").FullName;
    private readonly X509Certificate2 _ca;
    private readonly RSA _caKey = RSA.Create(2048);

    public GatewayTlsTests()
    {
        var request = new CertificateRequest("CN=buildpool-test-ca", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_directory, "ca.pem"), _ca.ExportCertificatePem());
        using var serverKey = RSA.Create(2048);
        using var server = Issue("gateway", serverKey, ServerName, serverAuth: true);
        File.WriteAllText(Path.Combine(_directory, "tls.crt"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "tls.key"), serverKey.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_tls_build_with_a_client_certificate_is_routed_by_the_certificate_identity()
    {
        await using var harness = await StartAsync();
        using var clientKey = RSA.Create(2048);
        using var issued = Issue("team-a", clientKey, dnsName: null, serverAuth: false);
        using var client = X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(clientKey).Export(X509ContentType.Pkcs12), null);
        var buildx = new FakeBuildxClient(new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port), Tls(client));

        var result = await buildx.BuildAsync(new FakeBuildxOptions { ContextName = "ignored", Authority = ServerName });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(harness.HomeOf("team-a"), result.Builder);
        Assert.Single(harness.Fleet.BuildersOf(result.Ref));
        var summary = await SummaryAsync(harness, result.Ref);
        Assert.Equal(("team-a", nameof(RoutingKeySource.ClientCertificate)), (summary.Key, summary.KeySource));
    }

    [Fact]
    public async Task A_client_without_a_certificate_from_the_ca_is_refused()
    {
        await using var harness = await StartAsync();
        var buildx = new FakeBuildxClient(new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port), Tls(client: null));

        var result = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(10) });

        Assert.False(result.Succeeded);
        Assert.Empty(harness.Fleet.Builders.SelectMany(b => b.Builds.Solves));
    }

    private Task<GatewayHarness> StartAsync() =>
        GatewayHarness.StartAsync(configure: o => o with
        {
            TlsCertificatePath = Path.Combine(_directory, "tls.crt"),
            TlsKeyPath = Path.Combine(_directory, "tls.key"),
            ClientCaPath = Path.Combine(_directory, "ca.pem"),
        });

    private Http2TlsOptions Tls(X509Certificate2? client) => new()
    {
        ServerName = ServerName,
        TrustedRoots = [_ca],
        ClientCertificates = client is null ? null : [client],
    };

    private X509Certificate2 Issue(string subject, RSA key, string? dnsName, bool serverAuth)
    {
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (dnsName is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(dnsName);
            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], critical: false));
        return request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
    }

    private static async Task<Gateway.Builds.BuildSummary> SummaryAsync(GatewayHarness harness, string reference)
    {
        Gateway.Builds.BuildSummary? summary = null;
        await Eventually.TrueAsync(() => (summary = harness.Gateway.Builds.RecentBuilds.FirstOrDefault(b => b.Ref == reference)) is not null, "the build's summary");
        return summary!;
    }
}
