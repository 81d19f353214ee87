using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace BuildPool.EndToEnd.Tests;

/// <summary>
/// <c>kubectl port-forward</c> in-process: a loopback listener whose every connection is carried
/// to a port of a pod through the API server. The pod is looked up again for each connection by
/// label selector, so a restarted pod is found without restarting the forward.
/// </summary>
internal sealed class PodPortForward : IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly string _selector;
    private readonly int _port;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;

    public PodPortForward(IKubernetes client, string @namespace, string selector, int port)
    {
        _client = client;
        _namespace = @namespace;
        _selector = selector;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Where local clients connect: tcp://127.0.0.1:port.</summary>
    public string Address => $"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] open;
        lock (_connections)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient tcp;
            try
            {
                tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(CarryAsync(tcp));
            }
        }
    }

    private async Task CarryAsync(TcpClient tcp)
    {
        using (tcp)
        {
            try
            {
                var pod = await FindPodAsync(_stop.Token);
                if (pod is null)
                {
                    return;
                }

                using var socket = await _client.WebSocketNamespacedPodPortForwardAsync(pod, _namespace, [_port], "v4.channel.k8s.io", cancellationToken: _stop.Token);
                using var demuxer = new StreamDemuxer(socket, StreamType.PortForward);
                demuxer.Start();
                await using var remote = demuxer.GetStream((byte?)0, (byte?)0);
                var local = tcp.GetStream();
                var up = local.CopyToAsync(remote, _stop.Token);
                var down = remote.CopyToAsync(local, _stop.Token);
                await Task.WhenAny(up, down);

                // One side ended: close both so the other copy ends too, then collect it.
                tcp.Close();
                await remote.DisposeAsync();
                await Task.WhenAll(up, down);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or WebSocketException or HttpOperationException or ObjectDisposedException)
            {
                // The client sees its connection close, as with kubectl port-forward.
            }
        }
    }

    private async Task<string?> FindPodAsync(CancellationToken cancellationToken)
    {
        var pods = await _client.CoreV1.ListNamespacedPodAsync(_namespace, labelSelector: _selector, cancellationToken: cancellationToken);
        return pods.Items
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Phase == "Running")
            .OrderByDescending(p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .Select(p => p.Metadata.Name)
            .FirstOrDefault();
    }
}
