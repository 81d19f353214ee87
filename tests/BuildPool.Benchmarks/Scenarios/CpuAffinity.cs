using System.Globalization;
using System.Runtime.InteropServices;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// Pins every thread of a process to a set of cores (Linux <c>sched_setaffinity</c> per task:
/// <c>Process.ProcessorAffinity</c> would pin only the main thread). Threads created later
/// inherit the mask of the thread that creates them, so pinning all of them once holds.
/// </summary>
internal static partial class CpuAffinity
{
    private const int MaskWords = 16; // cpu_set_t: 1,024 bits

    public static bool IsSupported => OperatingSystem.IsLinux() && Directory.Exists("/proc/self/task");

    /// <summary>Pins all threads of <paramref name="processId"/>; returns how many were pinned.</summary>
    public static int Pin(int processId, IReadOnlyCollection<int> cores)
    {
        var mask = new ulong[MaskWords];
        foreach (var core in cores)
        {
            mask[core / 64] |= 1UL << (core % 64);
        }

        var pinned = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{processId}/task"))
        {
            var threadId = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
            // A thread that ended since the listing is not an error.
            if (SchedSetAffinity(threadId, MaskWords * sizeof(ulong), mask) == 0)
            {
                pinned++;
            }
        }

        return pinned;
    }

    /// <summary>User plus system CPU time of a process, from <c>/proc/[pid]/stat</c>.</summary>
    public static TimeSpan CpuTime(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        // Fields after the command name, which may itself contain spaces, start at field 3.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    // USER_HZ: 100 on every Linux architecture .NET runs on.
    private const int ClockTicksPerSecond = 100;

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nint cpuSetSize, [In] ulong[] mask);
}
