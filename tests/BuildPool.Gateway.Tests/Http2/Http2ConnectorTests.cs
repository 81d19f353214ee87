using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace BuildPool.Gateway.Tests.Http2;

public sealed class Http2ConnectorTests
{
    private static X509Certificate2 CreateCertificate(string subject, string? dnsName, bool server)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (dnsName is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(dnsName);
            request.CertificateExtensions.Add(san.Build());
        }

        var usage = server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2");
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static Task<KestrelH2c> StartTlsServerAsync(X509Certificate2 serverCertificate) =>
        KestrelH2c.StartAsync(
            app => app.MapPost("/whoami", context =>
                context.Response.WriteAsync($"{context.Request.Protocol} {context.Connection.ClientCertificate?.Subject}")),
            listen: listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serverCertificate,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                // The test only checks that the client presented its certificate.
                ClientCertificateValidation = (_, _, _) => true,
            }));

    [Fact]
    public async Task TLS_with_a_private_CA_and_a_client_certificate_negotiates_h2()
    {
        using var serverCertificate = CreateCertificate("builder-0", "builder-0.buildpool.test", server: true);
        using var clientCertificate = CreateCertificate("buildx-client", null, server: false);
        await using var server = await StartTlsServerAsync(serverCertificate);
        var tls = new Http2TlsOptions
        {
            ServerName = "builder-0.buildpool.test",
            TrustedRoots = [serverCertificate],
            ClientCertificates = [clientCertificate],
        };

        await using var pool = new Http2ClientPool(new Http2ClientPoolOptions { Tls = tls });
        // Kestrel rejects a :scheme that does not match the transport, so it must come from the pool.
        var headers = GrpcWire.Request("builder-0.buildpool.test", "/whoami");
        headers[1] = new(":scheme", pool.Scheme);
        var stream = await pool.StartStreamAsync(server.EndPoint, headers, endStream: true).Within();
        var body = Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(stream).Within());

        Assert.Equal("HTTP/2 CN=buildx-client", body);
    }

    [Fact]
    public async Task A_server_certificate_outside_the_trusted_roots_is_rejected()
    {
        using var serverCertificate = CreateCertificate("builder-0", "builder-0.buildpool.test", server: true);
        using var otherRoot = CreateCertificate("someone-else", "other.test", server: true);
        using var clientCertificate = CreateCertificate("buildx-client", null, server: false);
        await using var server = await StartTlsServerAsync(serverCertificate);
        var tls = new Http2TlsOptions { ServerName = "builder-0.buildpool.test", TrustedRoots = [otherRoot], ClientCertificates = [clientCertificate] };

        await Assert.ThrowsAsync<AuthenticationException>(() => Http2Connector.ConnectAsync(server.EndPoint, tls, CancellationToken.None).Within());
    }
}
