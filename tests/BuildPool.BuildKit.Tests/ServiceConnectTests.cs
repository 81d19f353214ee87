using System.Net;
using System.Net.Sockets;
using BuildPool.BuildKit.Client;

namespace BuildPool.BuildKit.Tests;

public sealed class ServiceConnectTests
{
    [Fact]
    public async Task A_service_name_goes_to_the_resolver_not_dns_and_one_without_an_endpoint_says_so()
    {
        var asked = new List<string>();
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = ServiceConnect.Callback(e =>
            {
                asked.Add($"{e.Host}:{e.Port}");
                return new IPEndPoint(IPAddress.Loopback, 0);
            }),
        };
        using var http = new HttpClient(handler);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri("http://registry.nowhere-at-all.svc:5000/v2/")));

        Assert.Equal(["registry.nowhere-at-all.svc:5000"], asked);
        var refused = Assert.IsType<IOException>(ex.InnerException);
        Assert.StartsWith("no ready endpoint behind this Service", refused.Message, StringComparison.Ordinal);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(refused.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task A_service_name_the_resolver_knows_reaches_the_local_process_behind_it()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var handler = new SocketsHttpHandler { ConnectCallback = ServiceConnect.Callback(_ => listener.LocalEndpoint) };
        using var http = new HttpClient(handler);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var request = http.GetAsync(new Uri("http://registry.nowhere-at-all.svc:5000/v2/"), stop.Token);
        using var accepted = await listener.AcceptTcpClientAsync(stop.Token);
        var buffer = new byte[256];
        var read = await accepted.GetStream().ReadAsync(buffer, stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

        Assert.StartsWith("GET /v2/ HTTP/1.1", System.Text.Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
    }
}
