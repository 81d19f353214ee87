using System.Diagnostics;

namespace BuildPool.Host.Dev;

/// <summary>
/// A builder container as a <c>buildkitd</c> process of the current user. Its log goes to
/// <c>buildkitd.log</c> in the pod's folder; the last lines are kept for the termination message.
/// </summary>
internal sealed class BuildkitdContainer : LocalContainer
{
    private const int TailLines = 12;
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly StreamWriter _log;
    private readonly int _port;
    private readonly Task<int> _exited;

    private BuildkitdContainer(Process process, StreamWriter log, int port)
    {
        _process = process;
        _log = log;
        _port = port;
        _exited = WaitAsync();
    }

    public override Task<int> Exited => _exited;

    public int ProcessId => _process.Id;

    public static BuildkitdContainer Start(string executable, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env, string directory, int port)
    {
        var info = new ProcessStartInfo(executable)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in env)
        {
            info.Environment[name] = value;
        }

        var log = new StreamWriter(Path.Combine(directory, "buildkitd.log"), append: true) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        BuildkitdContainer? container = null;
        process.OutputDataReceived += (_, e) => container?.Line(e.Data);
        process.ErrorDataReceived += (_, e) => container?.Line(e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            log.Dispose();
            process.Dispose();
            throw;
        }

        container = new BuildkitdContainer(process, log, port);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return container;
    }

    // The pod's readiness probe runs `buildctl debug workers` inside the container; here the
    // daemon is ready once its loopback port accepts connections (buildkitd opens it after its worker is up).
    public override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (_exited.IsCompleted)
        {
            return false;
        }

        return await AcceptsAsync(_port, cancellationToken);
    }

    public override string Tail()
    {
        lock (_tail)
        {
            return string.Join('\n', _tail);
        }
    }

    public override async Task StopAsync(TimeSpan timeout)
    {
        if (!_exited.IsCompleted)
        {
            // SIGTERM lets buildkitd close its databases and release the lock on its root.
            using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false }))
            {
                if (kill is not null)
                {
                    await kill.WaitForExitAsync();
                }
            }

            try
            {
                await _exited.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        await _exited;
    }

    private void Line(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }

            _log.WriteLine(line);
        }
    }

    private async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync();
        var code = _process.ExitCode;
        lock (_tail)
        {
            _log.Dispose();
        }

        _process.Dispose();
        return code;
    }
}
