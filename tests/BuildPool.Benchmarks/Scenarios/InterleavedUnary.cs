using BuildPool.Benchmarks.Report;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// Unary <c>Control/Info</c> latency over several paths (the first is the baseline), one
/// connection per path, calls interleaved so drift on the machine hits every path alike.
/// </summary>
internal static class InterleavedUnary
{
    /// <summary>One path's latencies in microseconds, and what it adds to the first path's.</summary>
    public sealed record Result(double P50, double P99, double Mean, double AddedP50, double AddedP99)
    {
        public bool MeetsGoal => AddedP99 <= 1000;
    }

    public static async Task<IReadOnlyList<Result>> MeasureAsync(IReadOnlyList<RawGrpc> clients, int warmup, int calls, CancellationToken cancellationToken)
    {
        for (var i = 0; i < warmup; i++)
        {
            foreach (var client in clients)
            {
                await client.InfoAsync(cancellationToken);
            }
        }

        var samples = clients.Select(_ => new List<double>(calls)).ToArray();
        for (var i = 0; i < calls; i++)
        {
            for (var j = 0; j < clients.Count; j++)
            {
                var k = (i + j) % clients.Count;
                samples[k].Add(await clients[k].InfoAsync(cancellationToken));
            }
        }

        var baseline = Percentiles.Sorted(samples[0]);
        return samples.Select(values =>
        {
            var sorted = Percentiles.Sorted(values);
            return new Result(
                Percentiles.Of(sorted, 50), Percentiles.Of(sorted, 99), sorted.Average(),
                Percentiles.Of(sorted, 50) - Percentiles.Of(baseline, 50), Percentiles.Of(sorted, 99) - Percentiles.Of(baseline, 99));
        }).ToList();
    }
}
