using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace BuildPool.Gateway.Tests.Passthrough;

/// <summary>
/// A builder that terminates TLS itself: after the handshake it writes its name and a newline,
/// then echoes every byte until the client closes. It records the server names it was asked for.
/// </summary>
internal sealed class TlsEchoBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly TlsTestCertificate _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accepting;

    public TlsEchoBackend(string name, TlsTestCertificate certificate)
    {
        Name = name;
        _certificate = certificate;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Name { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The <c>--backend</c> argument for this builder.</summary>
    public string Argument => $"{Name}=tcp://127.0.0.1:{Port}";

    /// <summary>Server names (SNI) of the TLS connections it accepted, empty for none.</summary>
    public ConcurrentQueue<string> ServerNames { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_connections);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var owned = client;
        try
        {
            await using var tls = new SslStream(client.GetStream());
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate.Certificate }, _stop.Token);
            ServerNames.Enqueue(tls.TargetHostName);
            await tls.WriteAsync(Encoding.ASCII.GetBytes(Name + "\n"), _stop.Token);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await tls.ReadAsync(buffer, _stop.Token)) > 0)
            {
                await tls.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            await tls.ShutdownAsync();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException or ObjectDisposedException or SocketException)
        {
            // The client went away or the test ended.
        }
    }
}
