using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using BuildPool.TestDoubles;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// The gateway serving TLS from PEM files, with client certificates from a private CA. Each
/// test runs with a client that opens TLS as buildx's remote driver does (no ALPN, HTTP/2 with
/// prior knowledge, <c>:scheme http</c>) and with one that negotiates ALPN h2.
/// </summary>
public sealed class GatewayTlsTests : IDisposable
{
    private const string Domain = "builds.test";
    private const string ServerName = "gateway." + Domain;

    private readonly string _directory = Directory.CreateTempSubdirectory("buildpool-tls-").FullName;
    private readonly TestPki _pki;
    private readonly TestPki _otherCa;
    private readonly string _serverCert;
    private readonly string _serverKey;

    public GatewayTlsTests()
    {
        _pki = new TestPki(_directory);
        _otherCa = new TestPki(_directory, "other-ca");
        var (server, certPath, keyPath) = _pki.IssueServer("gateway", ServerName);
        server.Dispose();
        (_serverCert, _serverKey) = (certPath, keyPath);
    }

    public static TheoryData<ClientTlsStyle> Styles => [ClientTlsStyle.Buildx, ClientTlsStyle.AlpnH2];

    public void Dispose()
    {
        _pki.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task A_tls_build_with_a_client_certificate_is_routed_by_the_certificate_identity(ClientTlsStyle style)
    {
        await using var harness = await StartAsync();
        using var client = _pki.IssueClient($"team-a-{style}", "team-a").Certificate;
        var buildx = Client(harness, client, style);

        var result = await buildx.BuildAsync(new FakeBuildxOptions { ContextName = "ignored", Authority = ServerName });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(harness.HomeOf("team-a"), result.Builder);
        Assert.Single(harness.Fleet.BuildersOf(result.Ref));
        var summary = await SummaryAsync(harness, result.Ref);
        Assert.Equal(("team-a", nameof(RoutingKeySource.ClientCertificate)), (summary.Key, summary.KeySource));
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task A_client_without_a_certificate_is_refused_and_reaches_no_builder(ClientTlsStyle style)
    {
        await using var harness = await StartAsync();
        var buildx = Client(harness, certificate: null, style);

        var result = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(10) });

        Assert.False(result.Succeeded);
        Assert.NotEqual(Grpc.Core.StatusCode.DeadlineExceeded, result.Status);
        Assert.Empty(harness.Fleet.Builders.SelectMany(b => b.Builds.Calls));
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task A_certificate_from_another_ca_is_refused_reaches_no_builder_and_is_logged(ClientTlsStyle style)
    {
        var logs = new CapturedLogs();
        await using var harness = await StartAsync(logging: logs);
        using var foreign = _otherCa.IssueClient($"foreign-{style}", "team-a").Certificate;
        var buildx = Client(harness, foreign, style);

        var result = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(10) });

        Assert.False(result.Succeeded);
        Assert.NotEqual(Grpc.Core.StatusCode.DeadlineExceeded, result.Status);
        Assert.Empty(harness.Fleet.Builders.SelectMany(b => b.Builds.Calls));
        await Eventually.TrueAsync(
            () => logs.Lines.Any(l => l.Contains("does not chain to the client CA", StringComparison.Ordinal) && l.Contains(foreign.SerialNumber, StringComparison.Ordinal)),
            "the refused certificate's warning");
    }

    [Theory]
    [InlineData(ClientTlsStyle.Buildx, "1.3.6.1.5.5.7.3.1")]
    [InlineData(ClientTlsStyle.AlpnH2, "1.3.6.1.5.5.7.3.1")]
    [InlineData(ClientTlsStyle.Buildx, null)]
    public async Task A_certificate_of_the_client_ca_without_the_client_auth_usage_is_refused_reaches_no_builder_and_is_logged_and_counted(ClientTlsStyle style, string? usage)
    {
        var logs = new CapturedLogs();
        using var refusals = new RefusalCounter(Gateway.Tenants.ClientAuthUsage.Refusal);
        await using var harness = await StartAsync(logging: logs);
        // Chains to the client CA like a tenant's, but is a server certificate (or says nothing of its use).
        using var serverShaped = (usage is null
            ? _pki.IssueClientWithUsages($"no-usage-{style}", "team-a")
            : _pki.IssueClientWithUsages($"server-usage-{style}", "team-a", usage)).Certificate;
        var buildx = Client(harness, serverShaped, style);

        var result = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(10) });

        Assert.False(result.Succeeded);
        Assert.NotEqual(Grpc.Core.StatusCode.DeadlineExceeded, result.Status);
        Assert.Empty(harness.Fleet.Builders.SelectMany(b => b.Builds.Calls));
        await Eventually.TrueAsync(
            () => logs.Lines.Any(l => l.Contains("is not for TLS client authentication", StringComparison.Ordinal)
                && l.Contains("requires clientAuth (1.3.6.1.5.5.7.3.2)", StringComparison.Ordinal)
                && l.Contains(Gateway.Tenants.CertificateSerial.Normalize(serverShaped.SerialNumber), StringComparison.Ordinal)),
            "the refused certificate's warning");
        Assert.True(refusals.Count >= 1, "buildpool_gateway_refused_calls{reason=client_auth_usage_missing} counted the handshake");
    }

    [Theory]
    // An :authority under the domain must name the SNI host (another one is refused: TenantAccessTests).
    [InlineData(ClientTlsStyle.Buildx, "gateway." + Domain + ":1234", "gateway")]
    [InlineData(ClientTlsStyle.AlpnH2, "GATEWAY." + Domain, "gateway")]
    // buildx before 0.36 sends :authority localhost; the name is then only in SNI.
    [InlineData(ClientTlsStyle.Buildx, "localhost", "gateway")]
    [InlineData(ClientTlsStyle.AlpnH2, "localhost", "gateway")]
    public async Task A_name_under_the_routing_domain_in_the_authority_matching_sni_or_else_in_sni_keys_a_tls_build(ClientTlsStyle style, string authority, string key)
    {
        await using var harness = await StartAsync(o => o with { Domain = Domain });
        using var client = _pki.IssueClient($"team-a-{style}-{key}", "team-a").Certificate;
        var buildx = Client(harness, client, style);

        var result = await buildx.BuildAsync(new FakeBuildxOptions { Bootstrap = false, Authority = authority });

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(harness.HomeOf(key), result.Builder);
        var summary = await SummaryAsync(harness, result.Ref);
        Assert.Equal((key, nameof(RoutingKeySource.Authority)), (summary.Key, summary.KeySource));
    }

    [Fact]
    public async Task A_client_that_offers_only_http11_by_alpn_fails_the_handshake_and_reaches_no_builder()
    {
        await using var harness = await StartAsync();
        using var client = _pki.IssueClient("team-a-http11", "team-a").Certificate;
        var endPoint = new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port);

        // The gateway offers only h2: with no protocol in common the handshake itself fails
        // (no_application_protocol), before any HTTP/2.
        await Assert.ThrowsAsync<AuthenticationException>(() => BuildxTlsDialer.ConnectAsync(endPoint, Tls(client), [SslApplicationProtocol.Http11], CancellationToken.None).Within());
        Assert.Empty(harness.Fleet.Builders.SelectMany(b => b.Builds.Calls));
    }

    [Fact]
    public async Task A_client_that_never_finishes_its_tls_handshake_is_disconnected_after_the_handshake_timeout()
    {
        var timeout = TimeSpan.FromMilliseconds(500);
        await using var harness = await StartAsync(o => o with { TlsHandshakeTimeout = timeout });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, harness.Gateway.EndPoint.Port);
        var stream = tcp.GetStream();
        var connected = Stopwatch.StartNew();

        // The header of a ClientHello record, then silence: the handshake has begun and never goes on.
        await stream.WriteAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00 });
        await ReadUntilClosedAsync(stream).Within();

        Assert.InRange(connected.Elapsed, timeout / 2, TimeSpan.FromSeconds(5));
    }

    private static async Task ReadUntilClosedAsync(NetworkStream stream)
    {
        var buffer = new byte[1024];
        try
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A reset ends the connection as surely as a FIN.
        }
    }

    private Task<GatewayHarness> StartAsync(Func<GatewayOptions, GatewayOptions>? configure = null, CapturedLogs? logging = null) =>
        GatewayHarness.StartAsync(
            configure: o =>
            {
                var tls = o with { TlsCertificatePath = _serverCert, TlsKeyPath = _serverKey, ClientCaPath = _pki.CaPath };
                return configure?.Invoke(tls) ?? tls;
            },
            logging: logging);

    private FakeBuildxClient Client(GatewayHarness harness, X509Certificate2? certificate, ClientTlsStyle style) =>
        new(new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port), Tls(certificate), style);

    private Http2TlsOptions Tls(X509Certificate2? certificate) =>
        new() { ServerName = ServerName, TrustedRoots = [_pki.Ca], ClientCertificates = certificate is null ? null : [certificate] };

    private static async Task<Gateway.Builds.BuildSummary> SummaryAsync(GatewayHarness harness, string reference)
    {
        Gateway.Builds.BuildSummary? summary = null;
        await Eventually.TrueAsync(() => (summary = harness.Gateway.Builds.RecentBuilds.FirstOrDefault(b => b.Ref == reference)) is not null, "the build's summary");
        return summary!;
    }

    // Reads buildpool_gateway_refused_calls for one reason, the way an exporter would.
    private sealed class RefusalCounter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _count;

        public RefusalCounter(string reason)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GatewayMetrics.MeterName && instrument.Name == "buildpool_gateway_refused_calls")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "reason" && tag.Value as string == reason)
                    {
                        Interlocked.Add(ref _count, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
