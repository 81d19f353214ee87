using System.ComponentModel;
using System.Diagnostics;

namespace BuildPool.TestDoubles;

/// <summary>
/// Runs a real buildx binary (standalone, <c>buildx create/build ...</c>) as a child process
/// against remote-driver builders, with its own temporary <c>BUILDX_CONFIG</c> so it never reads
/// or changes the user's builders. Builds use plain progress so their output can be parsed
/// (<see cref="BuildxRun.Steps"/>).
/// </summary>
public sealed class BuildxCli : IDisposable
{
    private readonly string _path;
    private readonly DirectoryInfo _config;

    public BuildxCli(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _config = Directory.CreateTempSubdirectory("buildpool-buildx-");
    }

    /// <summary>Deadline for one buildx command; the process tree is killed when it passes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// <c>buildx create --driver remote</c>: a builder named <paramref name="name"/> for <paramref name="address"/>
    /// (<c>tcp://host:port</c>), with <paramref name="driverOpts"/> as <c>--driver-opt</c> when given
    /// (<c>cacert=…,cert=…,key=…,servername=…</c> for TLS).
    /// </summary>
    public async Task<string> CreateRemoteAsync(string name, string address, string? driverOpts = null, CancellationToken cancellationToken = default)
    {
        var created = await RunAsync(
            ["create", "--name", name, "--driver", "remote", .. driverOpts is null ? Array.Empty<string>() : ["--driver-opt", driverOpts], address],
            cancellationToken);
        if (!created.Succeeded)
        {
            throw new InvalidOperationException($"buildx create {name} {address}: {created}");
        }

        return name;
    }

    /// <summary>
    /// <c>buildx build --builder B --progress=plain CONTEXT</c> plus <paramref name="extraArgs"/>;
    /// never throws for a failed build, the run says what happened.
    /// </summary>
    public Task<BuildxRun> BuildAsync(string builder, string context, IEnumerable<string>? extraArgs = null, CancellationToken cancellationToken = default) =>
        RunAsync(["build", "--builder", builder, "--progress=plain", .. extraArgs ?? [], context], cancellationToken);

    /// <summary>Any buildx command with this instance's configuration directory.</summary>
    public async Task<BuildxRun> RunAsync(IEnumerable<string> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var info = new ProcessStartInfo(_path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["BUILDX_CONFIG"] = _config.FullName;
        info.Environment["BUILDKIT_PROGRESS"] = "plain";
        // A coloured or TTY progress display would need a terminal; plain text is what gets parsed.
        info.Environment["NO_COLOR"] = "1";

        var watch = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot run buildx at {_path}: {ex.Message}", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Timeout);
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }

            watch.Stop();
            // buildx prints its progress on stderr; stdout is empty unless a command prints a result.
            return new BuildxRun(process.ExitCode, await stdout + await stderr, watch.Elapsed, timedOut);
        }
    }

    public void Dispose()
    {
        try
        {
            _config.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless; the run's result matters more.
        }
    }
}
