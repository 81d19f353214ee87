using System.CommandLine;
using System.Net;
using BuildPool.Host.Commands;

namespace BuildPool.Host.Dev;

/// <summary>
/// A pool's gateway container run inside this process: the same <c>buildpool gateway</c> command
/// with the container's arguments, its listen address moved to a loopback port and builders'
/// Service names resolved to their local ports.
/// </summary>
internal sealed class GatewayContainer : LocalContainer
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<int> _exited;
    private readonly Uri _ready;
    private string _message = string.Empty;

    private GatewayContainer(IReadOnlyList<string> args, Func<DnsEndPoint, EndPoint?> resolve, int metricsPort)
    {
        _ready = new Uri($"http://127.0.0.1:{metricsPort}/readyz");
        _exited = Task.Run(() => RunAsync(args, resolve), CancellationToken.None);
    }

    public override Task<int> Exited => _exited;

    public static GatewayContainer Start(IReadOnlyList<string> args, Func<DnsEndPoint, EndPoint?> resolve, int metricsPort) => new(args, resolve, metricsPort);

    // The pod's readiness probe: GET /readyz on the metrics port (ready once a builder is).
    public override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (_exited.IsCompleted)
        {
            return false;
        }

        try
        {
            using var response = await Probe.GetAsync(_ready, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public override string Tail() => _message;

    public override async Task StopAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync();
        await _exited.WaitAsync(timeout).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task<int> RunAsync(IReadOnlyList<string> args, Func<DnsEndPoint, EndPoint?> resolve)
    {
        try
        {
            var root = new RootCommand { GatewayCommand.Create(resolve) };
            var code = await root.Parse([.. args]).InvokeAsync(cancellationToken: _stop.Token);
            _message = $"gateway exited with code {code}";
            return code;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _message = ex.Message;
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }
}
