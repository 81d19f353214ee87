using System.Net;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Support;
using BuildPool.TestDoubles;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.RealDaemons;

/// <summary>
/// The real buildx remote driver with <c>cacert</c>, <c>cert</c>, <c>key</c> and <c>servername</c>
/// through a TLS gateway (a CA, a server certificate and tenant certificates made here) to real
/// buildkitd daemons. buildx opens TLS itself without ALPN and speaks HTTP/2 with prior knowledge
/// (issue 16). Runs only when <see cref="RealBuildKitFactAttribute.Variable"/> and
/// <see cref="RealBuildxFactAttribute.Variable"/> are both set.
/// </summary>
public sealed class RealBuildxTlsTests : IDisposable
{
    private const string ServerName = "gateway.builds.test";

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("buildpool-real-buildx-tls-");
    private readonly BuildxCli _buildx = new(RealBuildxFactAttribute.BuildxPath ?? "buildx") { Timeout = TimeSpan.FromSeconds(90) };
    private readonly TestPki _pki;
    private readonly TestPki _otherCa;

    public RealBuildxTlsTests()
    {
        _pki = new TestPki(_work.FullName);
        _otherCa = new TestPki(_work.FullName, "other-ca");
    }

    [RealBuildxFact]
    public async Task Buildx_with_a_tenant_certificate_builds_through_the_tls_gateway_and_without_one_or_with_another_cas_it_is_refused()
    {
        var (server, serverCert, serverKey) = _pki.IssueServer("gateway", ServerName);
        server.Dispose();
        var (tenant, tenantCert, tenantKey) = _pki.IssueClient("tenant", "team-tls");
        tenant.Dispose();
        var (foreign, foreignCert, foreignKey) = _otherCa.IssueClient("foreign", "team-tls");
        foreign.Dispose();
        await using var gateway = await GatewayServer.StartAsync(new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Backends = [.. RealBuildKitFactAttribute.Addresses.Select((address, i) => StaticBackendParser.Parse($"real-{i}={address}"))],
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            TlsCertificatePath = serverCert,
            TlsKeyPath = serverKey,
            ClientCaPath = _pki.CaPath,
        });
        // Exactly the shape of a SecretBinding's status.buildxCommand, with this test's files.
        var withTenant = await _buildx.CreateRemoteAsync("tenant", gateway.Address, $"cacert={_pki.CaPath},cert={tenantCert},key={tenantKey},servername={ServerName}");
        var anonymous = await _buildx.CreateRemoteAsync("anonymous", gateway.Address, $"cacert={_pki.CaPath},servername={ServerName}");
        var stranger = await _buildx.CreateRemoteAsync("stranger", gateway.Address, $"cacert={_pki.CaPath},cert={foreignCert},key={foreignKey},servername={ServerName}");
        var context = Context("tls-" + Guid.NewGuid().ToString("N")[..12]);

        var built = await _buildx.BuildAsync(withTenant, context);
        var refusedAnonymous = await _buildx.BuildAsync(anonymous, context);
        var refusedStranger = await _buildx.BuildAsync(stranger, context);

        Assert.True(built.Succeeded, $"buildx build through the TLS gateway with a tenant certificate: {built}");
        Assert.False(refusedAnonymous.Succeeded, $"a build without a client certificate went through: {refusedAnonymous}");
        Assert.False(refusedStranger.Succeeded, $"a build with another CA's certificate went through: {refusedStranger}");
        List<BuildSummary> summaries = [];
        await Eventually.TrueAsync(() => (summaries = [.. gateway.Builds.RecentBuilds.Where(b => b.Key == "team-tls")]).Count >= 1, "the tenant build's summary");
        Assert.All(summaries, s => Assert.Equal((nameof(RoutingKeySource.ClientCertificate), 0), (s.KeySource, s.GrpcStatus)));
        // Every build the gateway saw came over the tenant's connections: the others never got past TLS.
        Assert.All(gateway.Builds.RecentBuilds, b => Assert.Equal("team-tls", b.Key));
    }

    public void Dispose()
    {
        _buildx.Dispose();
        _pki.Dispose();
        _otherCa.Dispose();
        _work.Delete(recursive: true);
    }

    private string Context(string name)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_work.FullName, name));
        File.WriteAllText(Path.Combine(directory.FullName, "Dockerfile"), "FROM scratch\nCOPY a.txt /a.txt\n");
        File.WriteAllText(Path.Combine(directory.FullName, "a.txt"), name);
        return directory.FullName;
    }
}
