using System.Globalization;

namespace BuildPool.TestDoubles.Attacks;

/// <summary>
/// Resident memory of another process, from <c>/proc/PID/status</c>: what a pod's memory limit
/// counts, unlike the managed heap, which misses pooled and native buffers.
/// </summary>
public sealed class ProcessMemory(int processId)
{
    /// <summary>VmRSS in bytes; 0 once the process is gone.</summary>
    public long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{processId}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>Samples <see cref="ResidentBytes"/> every <paramref name="interval"/> until disposed; <see cref="Sampling.Peak"/> is the highest seen.</summary>
    public Sampling Sample(TimeSpan interval) => new(this, interval);

    public sealed class Sampling : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peak;

        internal Sampling(ProcessMemory memory, TimeSpan interval)
        {
            _peak = memory.ResidentBytes();
            _loop = LoopAsync(memory, interval);
        }

        public long Peak => Interlocked.Read(ref _peak);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }

        private async Task LoopAsync(ProcessMemory memory, TimeSpan interval)
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    var now = memory.ResidentBytes();
                    if (now > Interlocked.Read(ref _peak))
                    {
                        Interlocked.Exchange(ref _peak, now);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
