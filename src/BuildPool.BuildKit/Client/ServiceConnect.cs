using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace BuildPool.BuildKit.Client;

/// <summary>
/// Opens connections where the cluster's DNS is not the machine's (<c>buildpool dev</c>): a
/// resolver maps a Service name to where it is served, so the name never reaches the machine's
/// resolver. A Service with no ready endpoint refuses the connection (as a ClusterIP without
/// endpoints does), and the error says so instead of a bare "connection refused".
/// </summary>
public static class ServiceConnect
{
    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/> that opens the socket where <paramref name="resolve"/> says (null from it: the usual DNS lookup).</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> Callback(Func<DnsEndPoint, EndPoint?> resolve)
    {
        ArgumentNullException.ThrowIfNull(resolve);
        return async (context, cancellationToken) =>
        {
            var target = resolve(context.DnsEndPoint);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(target ?? context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex) when (target is not null && ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                socket.Dispose();
                throw new IOException("no ready endpoint behind this Service (its name is resolved from the Services of the API the process talks to, not by DNS)", ex);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
    }
}
