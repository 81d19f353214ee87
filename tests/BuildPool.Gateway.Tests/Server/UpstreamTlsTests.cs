using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Discovery;
using BuildPool.Gateway.Tests.Support;
using BuildPool.TestDoubles;
using Grpc.Core;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// The gateway dialling a builder that serves mTLS (buildkitd with <c>--tlscacert</c>): a
/// <c>tls://</c> backend gets the <c>--upstream-ca</c> and <c>--upstream-cert</c>/<c>--upstream-key</c>
/// settings, parsed from PEM files like the command line does.
/// </summary>
public sealed class UpstreamTlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("buildpool-upstream-").FullName;
    private readonly TestPki _pki;
    private readonly TestPki _otherCa;

    public UpstreamTlsTests()
    {
        _pki = new TestPki(_directory, "pool-ca");
        _otherCa = new TestPki(_directory, "other-ca");
    }

    public void Dispose()
    {
        _pki.Dispose();
        _otherCa.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_build_reaches_a_builder_that_requires_mutual_tls_at_a_tls_address()
    {
        await using var builder = await StartBuilderAsync();
        var client = _pki.IssueClient("gateway-client", "buildpool-gateway");
        client.Certificate.Dispose();
        await using var gateway = await StartGatewayAsync(builder, new GatewayTlsFlags { UpstreamCa = _pki.CaPath, UpstreamCertificate = client.CertPath, UpstreamKey = client.KeyPath });

        var result = await FakeBuildxClient.For(gateway.Address).BuildAsync(new FakeBuildxOptions());

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("secure", result.Builder);
        Assert.StartsWith("tls://", builder.Address, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_builder_whose_certificate_is_not_from_the_upstream_ca_fails_the_build_naming_the_certificate_problem()
    {
        await using var builder = await StartBuilderAsync();
        var client = _pki.IssueClient("gateway-client", "buildpool-gateway");
        client.Certificate.Dispose();
        await using var gateway = await StartGatewayAsync(builder, new GatewayTlsFlags { UpstreamCa = _otherCa.CaPath, UpstreamCertificate = client.CertPath, UpstreamKey = client.KeyPath });

        var result = await FakeBuildxClient.For(gateway.Address).BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(20) });

        Assert.False(result.Succeeded);
        Assert.Equal(StatusCode.Unavailable, result.Status);
        Assert.Contains("certificate", result.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(builder.Builds.Solves);
    }

    [Fact]
    public async Task Without_an_upstream_client_certificate_a_builder_requiring_one_refuses_the_gateway()
    {
        await using var builder = await StartBuilderAsync();
        await using var gateway = await StartGatewayAsync(builder, new GatewayTlsFlags { UpstreamCa = _pki.CaPath });

        var result = await FakeBuildxClient.For(gateway.Address).BuildAsync(new FakeBuildxOptions { Bootstrap = false, Timeout = TimeSpan.FromSeconds(20) });

        Assert.False(result.Succeeded);
        Assert.Equal(StatusCode.Unavailable, result.Status);
        Assert.Empty(builder.Builds.Solves);
    }

    [Fact]
    public async Task In_pool_mode_a_cache_volume_whose_endpoint_is_https_is_dialled_with_mutual_tls()
    {
        await using var builder = await StartBuilderAsync();
        var client = _pki.IssueClient("gateway-client", "buildpool-gateway");
        client.Certificate.Dispose();
        var flags = new GatewayTlsFlags { UpstreamCa = _pki.CaPath, UpstreamCertificate = client.CertPath, UpstreamKey = client.KeyPath };
        await using var h = await PoolGatewayHarness.StartAsync(["pool-0"], gateway: flags.ApplyTo);

        // Plays the operator of a TLS pool: the volume's builder now serves mTLS at an https:// endpoint.
        var volume = (await h.Volumes.GetAsync(PoolGatewayHarness.Ns, "pool-0"))!;
        volume.Status.Endpoint = "https://" + builder.Address["tls://".Length..];
        await h.Volumes.ReplaceStatusAsync(volume);
        FakeBuildxResult? result = null;
        await global::BuildPool.TestDoubles.Eventually.TrueAsync(
            async () => (result = await h.Client.BuildAsync(new FakeBuildxOptions { Bootstrap = false })).Builder == "secure",
            "a build reaches the TLS builder at the volume's https:// endpoint");

        Assert.True(result!.Succeeded, result.ToString());
        Assert.Single(builder.Builds.Solves, s => s.Ref == result.Ref);
    }

    private async Task<FakeBuildKitDaemon> StartBuilderAsync()
    {
        var server = _pki.IssueServer("builder", "secure-builder.ci.svc");
        return await FakeBuildKitDaemon.StartAsync("worker-secure", "secure", new FakeBuilderTls(server.Certificate, _pki.Ca));
    }

    private static Task<GatewayServer> StartGatewayAsync(FakeBuildKitDaemon builder, GatewayTlsFlags flags) =>
        GatewayServer.StartAsync(flags.ApplyTo(new GatewayOptions
        {
            Listen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            Backends = [StaticBackendParser.Parse($"secure={builder.Address}")],
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            CircuitFailureThreshold = 100,
        }));
}
