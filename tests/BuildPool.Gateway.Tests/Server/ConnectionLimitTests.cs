using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using BuildPool.TestDoubles;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// One source address, one tenant, or a crowd of clients that never finish their TLS handshake
/// must not take every connection the gateway has: over their cap their connections are closed
/// at once, the refusal is counted and logged with the limit's flag, and an honest build from
/// another source still completes. Loopback addresses other than 127.0.0.1 stand for other hosts.
/// </summary>
public sealed class ConnectionLimitTests : IDisposable
{
    private const string ServerName = "gateway.builds.test";
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");
    private static readonly byte[] Preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];

    private readonly string _directory = Directory.CreateTempSubdirectory("buildpool-limits-").FullName;
    private readonly TestPki _pki;

    public ConnectionLimitTests() => _pki = new TestPki(_directory);

    public void Dispose()
    {
        _pki.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task One_source_cannot_hold_more_connections_than_its_cap_and_another_source_still_builds()
    {
        var logs = new CapturedLogs();
        await using var harness = await GatewayHarness.StartAsync(
            builders: 2,
            configure: o => o with { MaxConnections = 30, MaxConnectionsPerSource = 10 },
            logging: logs);

        // Enough to take every connection the gateway has, were there no cap per source.
        var sockets = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => OpenAsync(harness, Attacker, preface: true)));
        try
        {
            var kept = await Task.WhenAll(sockets.Select(s => IsServedAsync(s))).Within(20);

            Assert.Equal(10, kept.Count(k => k));
            var honest = await harness.Client.BuildAsync(GatewayHarness.Project("honest")).Within(30);
            Assert.True(honest.Succeeded, honest.ToString());
            Assert.Contains(logs.Lines, m => m.Contains("--max-connections-per-source", StringComparison.Ordinal) && m.Contains("127.0.0.2", StringComparison.Ordinal));
        }
        finally
        {
            Array.ForEach(sockets, s => s.Dispose());
        }
    }

    [Fact]
    public async Task Clients_that_never_finish_their_tls_handshake_cannot_starve_an_honest_build()
    {
        await using var harness = await StartTlsAsync(o => o with { MaxConnections = 30, MaxPendingTlsHandshakes = 5 });

        // Silent connections from several hosts, none over its per-source cap: each would hold
        // its slot for the whole handshake timeout. The oldest make room for the newer ones, and
        // the honest client's handshake, done in milliseconds, for itself.
        var sockets = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => OpenAsync(harness, IPAddress.Parse($"127.0.1.{(i % 8) + 1}"), preface: false)));
        try
        {
            var closed = await Task.WhenAll(sockets.Select(s => IsClosedSoonAsync(s, TimeSpan.FromSeconds(3))));
            Assert.Equal(35, closed.Count(c => c));

            using var certificate = _pki.IssueClient("honest", "team-a").Certificate;
            var honest = await TlsClient(harness, certificate).BuildAsync(GatewayHarness.Project("honest")).Within(8);
            Assert.True(honest.Succeeded, honest.ToString());
        }
        finally
        {
            Array.ForEach(sockets, s => s.Dispose());
        }
    }

    [Fact]
    public async Task One_tenant_cannot_hold_more_connections_than_its_cap_and_another_tenant_still_builds()
    {
        var logs = new CapturedLogs();
        await using var harness = await StartTlsAsync(o => o with { MaxConnectionsPerTenant = 3 }, logs);
        using var hostile = _pki.IssueClient("hostile", "team-x").Certificate;
        using var honestCertificate = _pki.IssueClient("honest", "team-a").Certificate;

        var connections = new List<Http2ClientConnection>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                connections.Add(await ConnectTlsAsync(harness, hostile));
            }

            // The fourth finishes its handshake and is closed before it carries a call.
            var over = await Record.ExceptionAsync(async () => await (await ConnectTlsAsync(harness, hostile)).DisposeAsync()).Within(10);
            Assert.IsType<Http2ConnectionException>(over);

            var honest = await TlsClient(harness, honestCertificate).BuildAsync(GatewayHarness.Project("honest")).Within(30);
            Assert.True(honest.Succeeded, honest.ToString());
            Assert.Contains(logs.Lines, m => m.Contains("--max-connections-per-tenant", StringComparison.Ordinal) && m.Contains("team-x", StringComparison.Ordinal));
            Assert.All(connections, c => Assert.False(c.Completion.IsCompleted));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private Task<GatewayHarness> StartTlsAsync(Func<GatewayOptions, GatewayOptions> configure, CapturedLogs? logging = null)
    {
        var (server, certPath, keyPath) = _pki.IssueServer("gateway", ServerName);
        server.Dispose();
        return GatewayHarness.StartAsync(
            builders: 2,
            configure: o => configure(o with { TlsCertificatePath = certPath, TlsKeyPath = keyPath, ClientCaPath = _pki.CaPath }),
            logging: logging);
    }

    private Http2TlsOptions Tls(X509Certificate2 certificate) =>
        new() { ServerName = ServerName, TrustedRoots = [_pki.Ca], ClientCertificates = [certificate] };

    private FakeBuildxClient TlsClient(GatewayHarness harness, X509Certificate2 certificate) =>
        new(new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port), Tls(certificate));

    private async Task<Http2ClientConnection> ConnectTlsAsync(GatewayHarness harness, X509Certificate2 certificate)
    {
        var transport = await Http2Connector.ConnectAsync(new DnsEndPoint("127.0.0.1", harness.Gateway.EndPoint.Port), Tls(certificate), CancellationToken.None);
        return await Http2ClientConnection.ConnectAsync(transport, peerName: "gateway");
    }

    private static async Task<Socket> OpenAsync(GatewayHarness harness, IPAddress source, bool preface)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        try
        {
            await socket.ConnectAsync(harness.Gateway.EndPoint);
        }
        catch (SocketException)
        {
            // Closed by the gateway as soon as it was accepted: the caller sees a closed socket.
            return socket;
        }

        if (preface)
        {
            await socket.SendAsync(Preface);
        }

        return socket;
    }

    // An h2c connection the gateway serves answers the preface with its SETTINGS; one it refused is closed.
    private static async Task<bool> IsServedAsync(Socket socket)
    {
        var buffer = new byte[64];
        try
        {
            return await socket.ReceiveAsync(buffer) > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<bool> IsClosedSoonAsync(Socket socket, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var buffer = new byte[64];
        try
        {
            return await socket.ReceiveAsync(buffer, timeout.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
