using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace BuildPool.Gateway.Tests.Passthrough;

/// <summary>The first flight of a real <see cref="SslStream"/> client: its ClientHello as it goes on the wire.</summary>
internal static class ClientHelloCapture
{
    public static async Task<byte[]> CaptureAsync(string targetHost)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: true, (_, _, _, _) => true);
        var handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = targetHost }, cancel.Token);

        // Read whole records until the handshake message they carry is complete.
        var stream = server.GetStream();
        var captured = new List<byte>();
        var header = new byte[5];
        var handshakeBytes = 0;
        var needed = -1;
        while (needed < 0 || handshakeBytes < needed)
        {
            await stream.ReadExactlyAsync(header, cancel.Token);
            var body = new byte[(header[3] << 8) | header[4]];
            await stream.ReadExactlyAsync(body, cancel.Token);
            captured.AddRange(header);
            captured.AddRange(body);
            if (needed < 0)
            {
                needed = 4 + ((body[1] << 16) | (body[2] << 8) | body[3]);
            }

            handshakeBytes += body.Length;
        }

        server.Close();
        try
        {
            await handshake;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            // The handshake was never meant to finish.
        }

        await tls.DisposeAsync();
        return [.. captured];
    }

    /// <summary>The same ClientHello cut into records of at most <paramref name="fragment"/> bytes of handshake data each.</summary>
    public static byte[] Refragment(byte[] hello, int fragment)
    {
        var handshake = new List<byte>();
        var position = 0;
        while (position < hello.Length)
        {
            var length = (hello[position + 3] << 8) | hello[position + 4];
            handshake.AddRange(hello.AsSpan(position + 5, length).ToArray());
            position += 5 + length;
        }

        var output = new List<byte>();
        for (var offset = 0; offset < handshake.Count; offset += fragment)
        {
            var count = Math.Min(fragment, handshake.Count - offset);
            output.AddRange([22, 3, 1, (byte)(count >> 8), (byte)count]);
            output.AddRange(handshake.GetRange(offset, count));
        }

        return [.. output];
    }
}
