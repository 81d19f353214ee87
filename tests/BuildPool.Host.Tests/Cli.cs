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
            Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
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
