using System.Net;
using System.Net.Sockets;

namespace BuildPool.Host.Dev;

/// <summary>One running container of a local pod: a process, or the gateway in this process.</summary>
internal abstract class LocalContainer : IAsyncDisposable
{
    /// <summary>Completes with the exit code when the container ends, for whatever reason.</summary>
    public abstract Task<int> Exited { get; }

    /// <summary>The container's readiness probe, answered locally.</summary>
    public abstract Task<bool> IsReadyAsync(CancellationToken cancellationToken);

    /// <summary>The last lines the container wrote: the termination message when it exits.</summary>
    public abstract string Tail();

    /// <summary>Asks it to stop (SIGTERM or cancellation) and waits up to <paramref name="timeout"/>, then kills it.</summary>
    public abstract Task StopAsync(TimeSpan timeout);

    /// <summary>Whether something accepts connections on the loopback <paramref name="port"/>.</summary>
    public static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        GC.SuppressFinalize(this);
    }
}
