using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace BuildPool.Gateway.Tests.Passthrough;

/// <summary>A real TLS client (SslStream, with SNI unless it connects by address) through the passthrough gateway.</summary>
internal sealed class TlsTestClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _tls;

    private TlsTestClient(TcpClient tcp, SslStream tls, string builder)
    {
        _tcp = tcp;
        _tls = tls;
        Builder = builder;
    }

    /// <summary>The builder that answered (its name is the first line it sends).</summary>
    public string Builder { get; }

    /// <summary>
    /// Connects to <paramref name="gateway"/> asking for <paramref name="serverName"/>: a host name
    /// is sent as SNI; an IP address (or null) sends none.
    /// </summary>
    public static async Task<TlsTestClient> ConnectAsync(IPEndPoint gateway, string? serverName, TlsTestCertificate certificate, CancellationToken cancellationToken = default)
    {
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(gateway, cancellationToken);
            var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, presented, _, _) => certificate.Validate(presented));
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName ?? "127.0.0.1" }, cancellationToken);
            var name = await ReadLineAsync(tls, cancellationToken);
            return new TlsTestClient(tcp, tls, name);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="payload"/> and returns what came back for it.</summary>
    public async Task<byte[]> EchoAsync(byte[] payload, CancellationToken cancellationToken = default)
    {
        await _tls.WriteAsync(payload, cancellationToken);
        var echoed = new byte[payload.Length];
        await _tls.ReadExactlyAsync(echoed, cancellationToken);
        return echoed;
    }

    public async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync();
        _tcp.Dispose();
    }

    private static async Task<string> ReadLineAsync(SslStream tls, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await tls.ReadAsync(one, cancellationToken) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }

        return line.ToString();
    }
}
