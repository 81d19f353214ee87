using System.Diagnostics;
using System.Text;

namespace BuildPool.Host.Tests;

/// <summary>Runs the real `buildpool` executable the way a person does, as its own process.</summary>
internal sealed class Cli : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private Cli(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { lock (_out) { _out.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_err) { _err.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (_out) { return _out.ToString(); } } }

    public string Error { get { lock (_err) { return _err.ToString(); } } }

    public static Cli Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "buildpool.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The tests must not find the developer's own cluster.
        info.Environment["KUBECONFIG"] = Path.Combine(workingDirectory, "no-such-kubeconfig");
        info.Environment["HOME"] = workingDirectory;
        return new Cli(Process.Start(info)!);
    }

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string workingDirectory, params string[] args)
    {
        await using var cli = Start(workingDirectory, args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await cli._process.WaitForExitAsync(timeout.Token);
        cli._process.WaitForExit();
        return (cli._process.ExitCode, cli.Output, cli.Error);
    }

    /// <summary>Ctrl-C: the process should stop on its own.</summary>
    public async Task<int> InterruptAsync()
    {
        if (!_process.HasExited)
        {
            // A test run started in the background by a non-interactive shell (`make test &`, nohup,
            // some CI runners) ignores SIGINT, and a child inherits an ignored signal: the host never
            // sees Ctrl-C then, exactly like a real `nohup make run`. SIGTERM (what Kubernetes sends)
            // goes down the same shutdown path in the host, so use it when SIGINT cannot arrive.
            var signal = SigIntIgnored() ? "-TERM" : "-INT";
            Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, what the kubelet sends to a pod being stopped; returns without waiting for the exit.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    private static bool SigIntIgnored()
    {
        // /proc/self/status: "SigIgn:\t<hex mask>", bit (signal - 1); SIGINT is 2.
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line.AsSpan("SigIgn:".Length).Trim(), System.Globalization.NumberStyles.HexNumber, null, out var mask)
            && (mask & 0x2) != 0;
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
}
