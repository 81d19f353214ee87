using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BuildPool.Benchmarks.Report;

namespace BuildPool.Benchmarks.Routing;

/// <summary>Runs <see cref="RoutingDecisionBenchmarks"/> with BenchmarkDotNet and turns its summary into one table.</summary>
internal static class RoutingDecisionSection
{
    public static string Run(bool quick, string artifacts)
    {
        // In-process: no separate benchmark project to generate and build, which would cost
        // minutes on two cores. 3 warm-ups and 10 iterations keep the suite near a minute while
        // the median survives a noisy neighbour; the ratios between algorithms are what matter.
        var job = (quick ? Job.Dry : Job.ShortRun.WithIterationCount(10)).WithToolchain(InProcessEmitToolchain.Instance);
        Directory.CreateDirectory(artifacts);
        var log = new StreamLogger(Path.Combine(artifacts, "routing-decision.log"));
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(log)
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.DisableLogFile);
        var summary = BenchmarkRunner.Run<RoutingDecisionBenchmarks>(config);
        log.Dispose();

        var rows = summary.Reports
            .Select(r => (
                Builders: (int)r.BenchmarkCase.Parameters["Builders"],
                Method: r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''),
                IsBaseline: r.BenchmarkCase.Descriptor.Baseline,
                Median: r.ResultStatistics?.Median ?? double.NaN,
                Allocated: r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase)))
            .OrderBy(r => r.Builders).ThenBy(r => r.IsBaseline ? 0 : 1).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();
        var table = new MarkdownTable("builders", "algorithm", "median per decision", "vs ring", "allocated per decision", "goal at 256 (≤ 1 µs, 0 B)");
        foreach (var row in rows)
        {
            var ring = rows.First(r => r.Builders == row.Builders && r.IsBaseline).Median;
            var goal = row.IsBaseline && row.Builders == 256
                ? Format.Goal(row.Median <= 1000 && row.Allocated == 0, "≤ 1 µs, 0 B")
                : string.Empty;
            table.Add(row.Builders, row.Method, Format.Nanos(row.Median), Format.Ratio(row.Median / ring),
                row.Allocated is { } bytes ? Format.Bytes(bytes) : "n/a", goal);
        }

        return $"""
            ## Routing decision

            One decision = hash the key + choose a builder under bounded loads (c = 1.25), every
            builder already running two builds. BenchmarkDotNet {typeof(BenchmarkRunner).Assembly.GetName().Version?.ToString(3)},
            {(quick ? "Dry job (quick run: numbers are not meaningful)" : "ShortRun job with 10 iterations (3 warm-ups), median reported")}, in-process toolchain,
            MemoryDiagnoser. The ring is the production `Placement.Place`; rendezvous and Maglev are
            implemented in `tests/BuildPool.Benchmarks/Routing/` with the same load check.

            {table}
            """;
    }
}
