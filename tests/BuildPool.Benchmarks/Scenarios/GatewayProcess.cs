using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BuildPool.TestDoubles;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// The production gateway as its own process: <c>buildpool gateway --backend ...</c> from the
/// Host project's build output, as a Deployment would run it, so its CPU time is its own and it
/// can be given cores of its own.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, DnsEndPoint endPoint)
    {
        _process = process;
        EndPoint = endPoint;
    }

    public DnsEndPoint EndPoint { get; }

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

    public static async Task<GatewayProcess> StartAsync(string hostDll, IEnumerable<string> backends, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { hostDll, "gateway", "--listen", $"127.0.0.1:{port}", "--metrics-address", $"127.0.0.1:{FreePort()}" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var backend in backends)
        {
            start.ArgumentList.Add("--backend");
            start.ArgumentList.Add(backend);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
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
                output.Enqueue(line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, new DnsEndPoint("127.0.0.1", port));
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
