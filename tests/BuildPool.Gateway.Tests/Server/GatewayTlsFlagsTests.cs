using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Support;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>The <c>buildpool gateway</c> TLS flags: pairs, files, and what they turn into.</summary>
public sealed class GatewayTlsFlagsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("buildpool-flags-").FullName;
    private readonly TestPki _pki;
    private readonly string _cert;
    private readonly string _key;
    private readonly string _garbage;

    public GatewayTlsFlagsTests()
    {
        _pki = new TestPki(_directory);
        var issued = _pki.IssueServer("gateway", "gateway.ci.svc");
        issued.Certificate.Dispose();
        (_cert, _key) = (issued.CertPath, issued.KeyPath);
        _garbage = Path.Combine(_directory, "garbage.pem");
        File.WriteAllText(_garbage, "not a pem file");
    }

    public void Dispose()
    {
        _pki.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Without_flags_the_gateway_serves_h2c_and_dials_builders_without_tls_settings()
    {
        var options = new GatewayTlsFlags().ApplyTo(new GatewayOptions());

        Assert.Null(options.TlsCertificatePath);
        Assert.Null(options.ClientCaPath);
        Assert.Null(options.Upstream.Tls);
    }

    [Fact]
    public void Client_certificates_are_required_by_default_whenever_a_client_ca_is_given()
    {
        var required = new GatewayTlsFlags { TlsCertificate = _cert, TlsKey = _key, ClientCa = _pki.CaPath }.ApplyTo(new GatewayOptions());
        var optional = new GatewayTlsFlags { TlsCertificate = _cert, TlsKey = _key, ClientCa = _pki.CaPath, RequireClientCertificate = false }.ApplyTo(new GatewayOptions());

        Assert.True(required.RequireClientCertificate);
        Assert.Equal(_pki.CaPath, required.ClientCaPath);
        Assert.False(optional.RequireClientCertificate);
    }

    [Fact]
    public void Upstream_flags_become_the_trusted_roots_and_the_client_certificate_for_tls_builders()
    {
        var client = _pki.IssueClient("upstream", "gateway");
        client.Certificate.Dispose();

        var options = new GatewayTlsFlags { UpstreamCa = _pki.CaPath, UpstreamCertificate = client.CertPath, UpstreamKey = client.KeyPath }.ApplyTo(new GatewayOptions());

        var tls = options.Upstream.Tls!;
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(tls.TrustedRoots!).Thumbprint);
        var presented = Assert.Single(tls.ClientCertificates!);
        Assert.True(presented.HasPrivateKey);
        Assert.Equal("CN=gateway, O=buildpool.dev", presented.Subject);
    }

    public static TheoryData<string, Func<GatewayTlsFlagsTests, GatewayTlsFlags>, string> Errors => new()
    {
        { "a certificate without its key", t => new() { TlsCertificate = t._cert }, "--tls-cert and --tls-key go together" },
        { "a key without its certificate", t => new() { TlsKey = t._key }, "--tls-cert and --tls-key go together" },
        { "an upstream certificate without its key", t => new() { UpstreamCertificate = t._cert }, "--upstream-cert and --upstream-key go together" },
        { "a client CA on a cleartext listener", t => new() { ClientCa = t._pki.CaPath }, "--client-ca needs --tls-cert and --tls-key" },
        { "requiring certificates nobody checks", t => new() { TlsCertificate = t._cert, TlsKey = t._key, RequireClientCertificate = true }, "--require-client-certificate needs --client-ca" },
        { "a missing certificate file", t => new() { TlsCertificate = "/no/such/tls.crt", TlsKey = t._key }, "--tls-cert '/no/such/tls.crt': no such file" },
        { "a missing client CA file", t => new() { TlsCertificate = t._cert, TlsKey = t._key, ClientCa = "/no/ca.pem" }, "--client-ca '/no/ca.pem': no such file" },
        { "a client CA that is not PEM", t => new() { TlsCertificate = t._cert, TlsKey = t._key, ClientCa = t._garbage }, "holds no PEM certificate" },
        { "an upstream CA that is not PEM", t => new() { UpstreamCa = t._garbage }, "--upstream-ca '" },
        { "a key that does not parse", t => new() { TlsCertificate = t._cert, TlsKey = t._garbage }, "not a PEM certificate and its matching private key" },
        { "a key of another certificate", t => new() { TlsCertificate = t._cert, TlsKey = t.OtherKey() }, "not a PEM certificate and its matching private key" },
        { "a missing upstream key", t => new() { UpstreamCertificate = t._cert, UpstreamKey = "/no/key.pem" }, "--upstream-key '/no/key.pem': no such file" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Bad_flags_fail_with_one_line_naming_the_flag(string because, Func<GatewayTlsFlagsTests, GatewayTlsFlags> flags, string expected)
    {
        var error = Assert.Throws<FormatException>(() => flags(this).ApplyTo(new GatewayOptions()));

        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{because}: {error.Message}");
        Assert.DoesNotContain('\n', error.Message);
    }

    private string OtherKey()
    {
        var other = _pki.IssueServer("other", "other.ci.svc");
        other.Certificate.Dispose();
        return other.KeyPath;
    }
}
