using System.Net;
using System.Net.Sockets;

namespace BuildPool.Host.Tests;

/// <summary>A loopback port free right now, for a process that is told its port on the command line.</summary>
internal static class LoopbackPort
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
