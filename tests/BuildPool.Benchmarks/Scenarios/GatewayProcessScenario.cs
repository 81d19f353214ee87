using System.Diagnostics;
using BuildPool.Benchmarks.Report;
using BuildPool.TestDoubles;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// The gateway as it is deployed: its own process (<c>buildpool gateway</c>), measured against
/// the same fake builder and client as <see cref="GatewayOverheadScenario"/>, twice: with every
/// process free to use every core, and with the gateway on a core of its own (client and builder
/// on the others), the way a gateway pod with a CPU request runs beside CI runners and builders.
/// </summary>
internal static class GatewayProcessScenario
{
    public static async Task<string> RunAsync(bool quick)
    {
        var host = GatewayProcess.FindHost();
        var cores = Environment.ProcessorCount;
        if (host is null || !CpuAffinity.IsSupported || cores < 2)
        {
            return $"""
                ## Gateway in its own process

                skipped: needs Linux, 2+ cores and the Host build output (`make build`); found host {host ?? "none"}, {cores} core(s).
                """;
        }

        var calls = quick ? 300 : 5_000;
        var warmup = quick ? 50 : 500;
        var streamBytes = quick ? 64L << 20 : 1L << 30;
        var repeats = quick ? 1 : 3;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var token = timeout.Token;
        var all = Enumerable.Range(0, cores).ToArray();
        var gatewayCores = new[] { cores - 1 };
        var otherCores = all[..^1];

        await using var fleet = await FakeBuilderFleet.StartAsync(1, "bench-", token);
        await using var gateway = await GatewayProcess.StartAsync(host, [fleet.BackendArguments[0]], token);
        var unary = new MarkdownTable("placement", "path", "p50", "p99", "added p50", "added p99", "goal (added p99 ≤ 1 ms)");
        var stream = new MarkdownTable("placement", "path", "runs", "best", "best throughput (each way)", "vs direct", "gateway process CPU per GiB", "client + builder CPU per GiB", "goal (≥ 90% of direct)");
        try
        {
            foreach (var (placement, pinned) in new[] { ("all cores shared", false), ($"gateway on core {cores - 1} alone, client and builder on the other {otherCores.Length}", true) })
            {
                CpuAffinity.Pin(gateway.Id, pinned ? gatewayCores : all);
                CpuAffinity.Pin(Environment.ProcessId, pinned ? otherCores : all);
                await MeasureAsync(placement, fleet[0].EndPoint, gateway, calls, warmup, streamBytes, repeats, unary, stream, token);
            }
        }
        finally
        {
            CpuAffinity.Pin(Environment.ProcessId, all);
        }

        return $"""
            ## Gateway in its own process

            The production gateway (`buildpool gateway --backend ...`, the Host build output run with `dotnet`, as its
            container runs it) in a process of its own, in front of the same fake builder, reached by the same
            client as above: client and builder share this benchmark's process. Measured twice, each time paths
            interleaved as above: with every process free to use every core, and with the gateway's threads pinned to
            one core and the client's and builder's to the others (Linux `sched_setaffinity` on every thread), which
            is how a gateway pod with its own CPU runs. Pinning halves the cores the client and builder have, so
            compare the rows of one placement with each other, not across placements. CPU per GiB is read from
            `/proc` for each process (medians of the runs).

            Unary `Control/Info`, {calls:N0} calls per path after {warmup:N0} warm-up calls:

            {unary}
            `Session` stream, {Format.Bytes(streamBytes)} each way per run in {Format.Bytes(GatewayOverheadScenario.MessageBytes)} messages, a fresh connection per run,
            one unmeasured warm-up run per path and placement, {repeats} measured run(s) per path:

            {stream}
            """;
    }

    private static async Task MeasureAsync(
        string placement, System.Net.DnsEndPoint builder, GatewayProcess gateway, int calls, int warmup, long streamBytes, int repeats,
        MarkdownTable unary, MarkdownTable stream, CancellationToken token)
    {
        var paths = new[] { ("direct", builder), ("gateway process", gateway.EndPoint) };
        var clients = new List<RawGrpc>();
        try
        {
            foreach (var (_, endPoint) in paths)
            {
                clients.Add(await RawGrpc.ConnectAsync(endPoint, cancellationToken: token));
            }

            var latencies = await InterleavedUnary.MeasureAsync(clients, warmup, calls, token);
            for (var k = 0; k < paths.Length; k++)
            {
                var result = latencies[k];
                unary.Add(placement, paths[k].Item1, Format.Micros(result.P50), Format.Micros(result.P99),
                    k == 0 ? "—" : Format.Micros(result.AddedP50), k == 0 ? "—" : Format.Micros(result.AddedP99),
                    k == 0 ? string.Empty : Format.Goal(result.MeetsGoal, "≤ 1 ms"));
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        foreach (var (_, endPoint) in paths)
        {
            await using var client = await RawGrpc.ConnectAsync(endPoint, cancellationToken: token);
            await client.SessionEchoAsync(streamBytes / 4, GatewayOverheadScenario.MessageBytes, token);
        }

        var runs = paths.Select(_ => new List<TimeSpan>()).ToArray();
        var gatewayCpu = paths.Select(_ => new List<double>()).ToArray();
        var benchCpu = paths.Select(_ => new List<double>()).ToArray();
        using var self = Process.GetCurrentProcess();
        var gib = streamBytes / (double)(1L << 30);
        for (var r = 0; r < repeats; r++)
        {
            for (var k = 0; k < paths.Length; k++)
            {
                await using var client = await RawGrpc.ConnectAsync(paths[k].Item2, cancellationToken: token);
                self.Refresh();
                var benchBefore = self.TotalProcessorTime;
                var gatewayBefore = CpuAffinity.CpuTime(gateway.Id);
                runs[k].Add(await client.SessionEchoAsync(streamBytes, GatewayOverheadScenario.MessageBytes, token));
                self.Refresh();
                benchCpu[k].Add((self.TotalProcessorTime - benchBefore).TotalSeconds / gib);
                gatewayCpu[k].Add((CpuAffinity.CpuTime(gateway.Id) - gatewayBefore).TotalSeconds / gib);
            }
        }

        var directBest = runs[0].Min();
        for (var k = 0; k < paths.Length; k++)
        {
            var best = runs[k].Min();
            var ratio = directBest / best;
            stream.Add(placement, paths[k].Item1, string.Join(", ", runs[k].Select(Format.Seconds)), Format.Seconds(best),
                Format.Bytes(streamBytes / best.TotalSeconds) + "/s", Format.Percent(ratio, 1),
                k == 0 ? "—" : Format.Number(Median(gatewayCpu[k]), 2) + " s", Format.Number(Median(benchCpu[k]), 2) + " s",
                k == 0 ? string.Empty : Format.Goal(ratio >= 0.9, "≥ 90%"));
        }
    }

    private static double Median(List<double> values) => Percentiles.Of(Percentiles.Sorted(values), 50);
}
