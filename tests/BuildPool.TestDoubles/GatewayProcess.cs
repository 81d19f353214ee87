using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
namespace BuildPool.TestDoubles;

/// <summary>
/// The production gateway as its own process: <c>buildpool gateway --backend ...</c> from the
/// Host project's build output, as a Deployment would run it, so its CPU time is its own and it
/// can be given cores of its own.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, DnsEndPoint endPoint, DnsEndPoint metricsEndPoint)
    {
        _process = process;
        EndPoint = endPoint;
        MetricsEndPoint = metricsEndPoint;
    }

    public DnsEndPoint EndPoint { get; }

    /// <summary>The buildx address of the gateway: <c>tcp://host:port</c>.</summary>
    public string Address => $"tcp://{EndPoint.Host}:{EndPoint.Port}";

    /// <summary>Where it serves <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>.</summary>
    public DnsEndPoint MetricsEndPoint { get; }

    public int Id => _process.Id;

    /// <summary>
    /// The Host build output (<c>make build</c> or the benchmark's own build), or null when absent.
    /// <c>BUILDPOOL_BENCH_GATEWAY_DLL</c> names another build's <c>buildpool.dll</c>, to compare two builds.
    /// </summary>
    public static string? FindHost()
    {
        if (Environment.GetEnvironmentVariable("BUILDPOOL_BENCH_GATEWAY_DLL") is { Length: > 0 } chosen)
        {
            return File.Exists(chosen) ? chosen : null;
        }

        foreach (var configuration in new[] { "Release", "Debug" })
        {
            var path = Path.Combine(RepositoryPaths.Root, "src", "BuildPool.Host", "bin", configuration, "net10.0", "buildpool.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>
    /// Starts <c>buildpool gateway</c> with one <c>--backend</c> per entry of <paramref name="backends"/>, then <paramref name="extraArguments"/>.
    /// A free port can be taken by another test between choosing it and the process binding it:
    /// then the start is tried again on other ports.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string hostDll, IEnumerable<string> backends, CancellationToken cancellationToken, IEnumerable<string>? extraArguments = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(hostDll, backends, cancellationToken, extraArguments);
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static async Task<GatewayProcess> StartOnceAsync(string hostDll, IEnumerable<string> backends, CancellationToken cancellationToken, IEnumerable<string>? extraArguments)
    {
        var port = FreePort();
        var metricsPort = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { hostDll, "gateway", "--listen", $"127.0.0.1:{port}", "--metrics-address", $"127.0.0.1:{metricsPort}" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var backend in backends)
        {
            start.ArgumentList.Add("--backend");
            start.ArgumentList.Add(backend);
        }

        foreach (var argument in extraArguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Keep(output, line);
                if (line.Contains("Gateway listening", StringComparison.Ordinal))
                {
                    listening.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Keep(output, line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, new DnsEndPoint("127.0.0.1", port), new DnsEndPoint("127.0.0.1", metricsPort));
        try
        {
            var exited = process.WaitForExitAsync(cancellationToken);
            var first = await Task.WhenAny(listening.Task, exited).WaitAsync(TimeSpan.FromMinutes(1), cancellationToken);
            if (first != listening.Task)
            {
                throw new InvalidOperationException("buildpool gateway exited before listening:\n" + string.Join('\n', output));
            }
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }

        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>The last lines only: an attack makes the gateway log every refusal, and the test process must not grow with them.</summary>
    private static void Keep(System.Collections.Concurrent.ConcurrentQueue<string> output, string line)
    {
        output.Enqueue(line);
        while (output.Count > 200)
        {
            output.TryDequeue(out _);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
