using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace BuildPool.Benchmarks.Report;

/// <summary>What the numbers were measured on: the header of docs/benchmarks.md.</summary>
internal static class MachineInfo
{
    public static string Describe(string repositoryRoot, string loadAtStart, string loadAtEnd, TimeSpan total)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"- Commit: `{Git(repositoryRoot, "rev-parse --short HEAD")}`{(Git(repositoryRoot, "status --porcelain --untracked-files=no").Length > 0 ? " (with uncommitted changes in the tree)" : string.Empty)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; total runtime {Format.Seconds(total)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {Environment.ProcessorCount} logical cores, {CpuModel()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Memory: {Format.Bytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} available to the process");
        text.AppendLine(CultureInfo.InvariantCulture, $"- OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        text.AppendLine(CultureInfo.InvariantCulture, $"- .NET: {RuntimeInformation.FrameworkDescription}, workstation non-concurrent GC, Release build");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Load average (1/5/15 min) at start: {loadAtStart}; at end: {loadAtEnd}");
        return text.ToString();
    }

    /// <summary>The 1/5/15-minute load averages, to show whether other work shared the machine.</summary>
    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(" / ", parts.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "model unknown" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "model unknown";
        }
    }

    private static string Git(string root, string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
