using System.Net;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Benchmarks.Report;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.Http2;
using BuildPool.TestDoubles;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// What the gateway adds: unary latency and Session-stream throughput through the in-process
/// gateway against the same fake builder reached directly, by the same client, interleaved.
/// </summary>
internal static class GatewayOverheadScenario
{
    internal const int MessageBytes = 32 * 1024;

    public static async Task<string> RunAsync(bool quick)
    {
        var calls = quick ? 300 : 5_000;
        var warmup = quick ? 50 : 500;
        var streamBytes = quick ? 64L << 20 : 1L << 30;
        var repeats = quick ? 1 : 3;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var token = timeout.Token;

        await using var fleet = await FakeBuilderFleet.StartAsync(1, "bench-", token);
        using var certificate = new BenchCertificate();
        var options = new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Backends = [StaticBackendParser.Parse(fleet.BackendArguments[0])],
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        };
        await using var gateway = await GatewayServer.StartAsync(options, cancellationToken: token);
        await using var tlsGateway = await GatewayServer.StartAsync(
            options with { TlsCertificatePath = certificate.CertificatePath, TlsKeyPath = certificate.KeyPath }, cancellationToken: token);
        var tls = new Http2TlsOptions { ServerName = BenchCertificate.ServerName, TrustedRoots = [certificate.Certificate] };
        var paths = new List<Path>
        {
            new("direct (h2c)", fleet[0].EndPoint, null),
            new("gateway (h2c)", new DnsEndPoint("127.0.0.1", gateway.EndPoint.Port), null),
            new("gateway (client TLS, upstream h2c)", new DnsEndPoint("127.0.0.1", tlsGateway.EndPoint.Port), tls),
        };

        // Unary: one connection per path, calls interleaved so drift hits every path alike.
        var clients = new List<RawGrpc>();
        try
        {
            foreach (var path in paths)
            {
                clients.Add(await RawGrpc.ConnectAsync(path.EndPoint, path.Tls, token));
            }

            var latencies = await InterleavedUnary.MeasureAsync(clients, warmup, calls, token);
            var unary = new MarkdownTable("path", "p50", "p99", "mean", "added p50", "added p99", "goal (added p99 ≤ 1 ms)");
            for (var k = 0; k < paths.Count; k++)
            {
                var result = latencies[k];
                unary.Add(paths[k].Name, Format.Micros(result.P50), Format.Micros(result.P99), Format.Micros(result.Mean),
                    k == 0 ? "—" : Format.Micros(result.AddedP50), k == 0 ? "—" : Format.Micros(result.AddedP99),
                    k == 0 ? string.Empty : Format.Goal(result.MeetsGoal, "≤ 1 ms"));
            }

            // Throughput: a fresh connection per run (a Session is a build, and a build ends with its connection).
            // One unmeasured warm-up run per path first, so JIT tiering and pool growth hit no measured run.
            foreach (var path in paths)
            {
                await using var client = await RawGrpc.ConnectAsync(path.EndPoint, path.Tls, token);
                await client.SessionEchoAsync(streamBytes / 8, MessageBytes, token);
            }

            var runs = paths.Select(_ => new List<TimeSpan>()).ToList();
            var cpu = paths.Select(_ => new List<TimeSpan>()).ToList();
            var workItems = paths.Select(_ => new List<double>()).ToList();
            var allocated = paths.Select(_ => new List<double>()).ToList();
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            for (var r = 0; r < repeats; r++)
            {
                for (var k = 0; k < paths.Count; k++)
                {
                    await using var client = await RawGrpc.ConnectAsync(paths[k].EndPoint, paths[k].Tls, token);
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    var itemsBefore = ThreadPool.CompletedWorkItemCount;
                    var allocatedBefore = GC.GetTotalAllocatedBytes();
                    runs[k].Add(await client.SessionEchoAsync(streamBytes, MessageBytes, token));
                    process.Refresh();
                    cpu[k].Add(process.TotalProcessorTime - cpuBefore);
                    var mebibytes = streamBytes / (double)(1 << 20);
                    workItems[k].Add((ThreadPool.CompletedWorkItemCount - itemsBefore) / mebibytes);
                    allocated[k].Add((GC.GetTotalAllocatedBytes() - allocatedBefore) / mebibytes);
                }
            }

            var throughput = new MarkdownTable("path", "runs", "best", "best throughput (each way)", "vs direct", "CPU per GiB each way (process)", "added CPU per GiB", "thread-pool work items per MiB", "allocated per MiB", "goal (≥ 90% of direct)");
            var directBest = runs[0].Min();
            var directCpu = CpuPerGiB(cpu[0], streamBytes);
            for (var k = 0; k < paths.Count; k++)
            {
                var best = runs[k].Min();
                var ratio = directBest / best;
                var cpuPerGiB = CpuPerGiB(cpu[k], streamBytes);
                throughput.Add(paths[k].Name, string.Join(", ", runs[k].Select(Format.Seconds)), Format.Seconds(best),
                    Format.Bytes(streamBytes / best.TotalSeconds) + "/s", Format.Percent(ratio, 1),
                    Format.Number(cpuPerGiB, 2) + " s", k == 0 ? "—" : Format.Number(cpuPerGiB - directCpu, 2) + " s",
                    Format.Number(Median(workItems[k]), 0), Format.Bytes(Median(allocated[k])),
                    k == 0 ? string.Empty : Format.Goal(ratio >= 0.9, "≥ 90%"));
            }

            return $"""
                ## Gateway overhead

                One fake builder (`FakeBuildKitDaemon`, Kestrel + Grpc.AspNetCore) reached directly and
                through the in-process gateway (`GatewayServer`, static backend), by the same client: the
                gateway's own HTTP/2 client (`Http2ClientConnection`) writing gRPC frames by hand. Everything
                runs in this one process on loopback, so client, gateway and builder share the 2 cores.

                Unary `Control/Info`, {calls:N0} calls per path after {warmup:N0} warm-up calls, one
                connection per path, paths interleaved call by call:

                {unary}
                `Session` stream: {Format.Bytes(streamBytes)} sent in {Format.Bytes(MessageBytes)} `BytesMessage`s
                while the builder echoes every message back (so the same amount flows each way, and the
                builder parses and re-serialises each message), a fresh connection per run, one unmeasured
                warm-up run per path, then paths interleaved run by run, {repeats} run(s) each. The fake builder has
                no TLS listener, so the TLS row terminates TLS at the gateway and compares with direct h2c: it
                includes the cost of TLS itself. CPU is the whole process's CPU time during a run (median of the
                runs) per GiB sent: client and builder cost the same on every path, so "added CPU" is what the
                gateway itself spends. With 2 cores shared by client, gateway and builder, every CPU second the
                gateway spends is taken from the other two, so the throughput ratio here is lower than on a
                gateway with cores of its own. Thread-pool work items (each one a hand-off between threads) and
                allocations per MiB are counted for the whole process too; unlike time they do not depend on
                what else runs on the machine.

                {throughput}
                """;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static double Median(List<double> values) => Percentiles.Of(Percentiles.Sorted(values), 50);

    private static double CpuPerGiB(List<TimeSpan> cpu, long bytes)
    {
        var sorted = Percentiles.Sorted(cpu.Select(c => c.TotalSeconds));
        return Percentiles.Of(sorted, 50) / (bytes / (double)(1L << 30));
    }

    private sealed record Path(string Name, DnsEndPoint EndPoint, Http2TlsOptions? Tls);
}
