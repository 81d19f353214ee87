using System.Diagnostics;

namespace BuildPool.Packaging.Tests;

/// <summary>Runs the helm binary from PATH, when there is one.</summary>
public static class Helm
{
    public static readonly string? Path = Environment.GetEnvironmentVariable("PATH")?
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, OperatingSystem.IsWindows() ? "helm.exe" : "helm"))
        .FirstOrDefault(File.Exists);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        // Helm keeps caches and repository config under HOME; a scratch HOME keeps the user's out of the test.
        var home = Directory.CreateTempSubdirectory("buildpool-helm-");
        try
        {
            var start = new ProcessStartInfo(Path ?? "helm")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = BuildPool.TestDoubles.RepositoryPaths.Root,
            };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["HOME"] = home.FullName;
            start.Environment["HELM_CACHE_HOME"] = System.IO.Path.Combine(home.FullName, "cache");
            start.Environment["HELM_CONFIG_HOME"] = System.IO.Path.Combine(home.FullName, "config");
            start.Environment["HELM_DATA_HOME"] = System.IO.Path.Combine(home.FullName, "data");
            start.Environment["KUBECONFIG"] = System.IO.Path.Combine(home.FullName, "kubeconfig");

            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return new Result(process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
