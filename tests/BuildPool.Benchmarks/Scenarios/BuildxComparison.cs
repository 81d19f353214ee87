using System.Globalization;
using BuildPool.Benchmarks.Report;
using BuildPool.Gateway.Server;
using BuildPool.TestDoubles;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// The real buildx CLI (remote driver) building through the gateway and directly to the daemon the
/// gateway places the build on, runs interleaved path by path: wall time of a cold and a warm build
/// of a small context, and build-context upload throughput (fresh random content every run, so
/// nothing is cached and the whole file crosses the <c>Session</c> stream each time).
/// </summary>
internal static class BuildxComparison
{
    private const int MiB = 1024 * 1024;

    public static async Task<string> RunAsync(string buildxPath, GatewayServer gateway, IReadOnlyDictionary<string, string> daemons, bool quick)
    {
        var smallRuns = quick ? 2 : 10;
        var uploadRuns = quick ? 1 : 3;
        var uploadBytes = (quick ? 32 : 1024) * MiB;
        var work = Directory.CreateTempSubdirectory("buildpool-bench-buildx-");
        using var buildx = new BuildxCli(buildxPath) { Timeout = TimeSpan.FromMinutes(5) };
        try
        {
            await buildx.CreateRemoteAsync("gateway", gateway.Address);
            foreach (var (id, address) in daemons)
            {
                await buildx.CreateRemoteAsync("direct-" + id, address);
            }

            // The context directory's basename is the routing key; "direct" goes to the daemon
            // the gateway places that key on, so both paths build on the same daemon.
            var small = Directory.CreateDirectory(Path.Combine(work.FullName, "bench-small")).FullName;
            var upload = Directory.CreateDirectory(Path.Combine(work.FullName, "bench-upload")).FullName;
            var smallPaths = Paths(gateway, "bench-small");
            var uploadPaths = Paths(gateway, "bench-upload");

            // One unmeasured build per path: bootstrap, the daemon's Dockerfile frontend, first connections.
            foreach (var (_, builder) in smallPaths)
            {
                WriteSmallContext(small);
                await BuildAsync(buildx, builder, small, expectCached: false);
            }

            var cold = new[] { new List<double>(), new List<double>() };
            var warm = new[] { new List<double>(), new List<double>() };
            for (var run = 0; run < smallRuns; run++)
            {
                foreach (var p in Interleaved(run))
                {
                    WriteSmallContext(small);
                    cold[p].Add((await BuildAsync(buildx, smallPaths[p].Builder, small, expectCached: false)).Elapsed.TotalMilliseconds);
                    warm[p].Add((await BuildAsync(buildx, smallPaths[p].Builder, small, expectCached: true)).Elapsed.TotalMilliseconds);
                }
            }

            await File.WriteAllTextAsync(Path.Combine(upload, "Dockerfile"), "FROM scratch\nCOPY blob /blob\n");
            var wall = new[] { new List<double>(), new List<double>() };
            var transfer = new[] { new List<double>(), new List<double>() };
            for (var run = 0; run < uploadRuns; run++)
            {
                foreach (var p in Interleaved(run))
                {
                    await WriteRandomAsync(Path.Combine(upload, "blob"), uploadBytes);
                    var built = await BuildAsync(buildx, uploadPaths[p].Builder, upload, expectCached: false);
                    wall[p].Add(built.Elapsed.TotalSeconds);
                    transfer[p].Add(built.Steps.FirstOrDefault(s => s.Name == "[internal] load build context")?.Duration?.TotalSeconds
                        ?? throw new InvalidOperationException($"no build-context step in:\n{built}"));
                }
            }

            // How long the gateway held each small build's Solve before forwarding it (correlating
            // the build's calls, placing it, admission), by its own per-build summary.
            var held = gateway.Builds.RecentBuilds.Where(b => b.Key == "bench-small").Select(b => b.Wait.TotalMilliseconds).ToList();
            return Report(smallPaths, uploadPaths, smallRuns, uploadRuns, uploadBytes, cold, warm, wall, transfer, held);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    // [0] direct, [1] gateway.
    private static (string Daemon, string Builder)[] Paths(GatewayServer gateway, string key)
    {
        var daemon = gateway.Placement.Place(key).Backend?.Id ?? throw new InvalidOperationException($"no daemon for {key}");
        return [(daemon, "direct-" + daemon), (daemon, "gateway")];
    }

    // Alternates which path goes first, so neither always runs right after the other's build.
    private static int[] Interleaved(int run) => run % 2 == 0 ? [0, 1] : [1, 0];

    private static async Task<BuildxRun> BuildAsync(BuildxCli buildx, string builder, string context, bool expectCached)
    {
        var run = await buildx.BuildAsync(builder, context);
        if (!run.Succeeded)
        {
            throw new InvalidOperationException($"buildx build via {builder}: {run}");
        }

        // A cold build that hit the cache (or a warm one that missed) would measure the wrong thing.
        if (run.DockerfileSteps.Count == 0 || run.DockerfileSteps.Any(s => s.Cached != expectCached))
        {
            throw new InvalidOperationException($"buildx build via {builder} expected every step {(expectCached ? "CACHED" : "built")}: {run}");
        }

        return run;
    }

    private static void WriteSmallContext(string context)
    {
        File.WriteAllText(Path.Combine(context, "Dockerfile"), "FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nCOPY c.txt /c.txt\n");
        foreach (var file in new[] { "a.txt", "b.txt", "c.txt" })
        {
            File.WriteAllText(Path.Combine(context, file), Guid.NewGuid().ToString("N"));
        }
    }

    private static async Task WriteRandomAsync(string path, int bytes)
    {
        var buffer = new byte[MiB];
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, MiB, useAsync: true);
        for (var written = 0; written < bytes; written += buffer.Length)
        {
            Random.Shared.NextBytes(buffer);
            await file.WriteAsync(buffer);
        }
    }

    private static string Report(
        (string Daemon, string Builder)[] smallPaths,
        (string Daemon, string Builder)[] uploadPaths,
        int smallRuns,
        int uploadRuns,
        int uploadBytes,
        List<double>[] cold,
        List<double>[] warm,
        List<double>[] wall,
        List<double>[] transfer,
        List<double> held)
    {
        string[] names = ["direct", "gateway"];
        var builds = new MarkdownTable("build", "path", "runs", "median", "vs direct");
        foreach (var (label, samples) in new[] { ("cold", cold), ("warm (all steps CACHED)", warm) })
        {
            var directMedian = Median(samples[0]);
            for (var p = 0; p < 2; p++)
            {
                var median = Median(samples[p]);
                builds.Add(
                    label,
                    names[p],
                    string.Join(", ", samples[p].Select(ms => Format.Number(ms, 0))) + " ms",
                    Format.Micros(median * 1000),
                    p == 0 ? "—" : Format.Ratio(median / directMedian));
            }
        }

        var throughput = new MarkdownTable("path", "runs (wall)", "best wall", "throughput (wall)", "vs direct (wall)", "context transfer (best)", "throughput (transfer)", "vs direct (transfer)");
        var directBestWall = wall[0].Min();
        var directBest = transfer[0].Min();
        for (var p = 0; p < 2; p++)
        {
            var bestWall = wall[p].Min();
            var bestTransfer = transfer[p].Min();
            throughput.Add(
                names[p],
                string.Join(", ", wall[p].Select(s => Format.Number(s, 2))) + " s",
                Format.Number(bestWall, 2) + " s",
                MiBPerSecond(uploadBytes, bestWall),
                p == 0 ? "100.0 %" : Format.Percent(directBestWall / bestWall, 1),
                Format.Number(bestTransfer, 1) + " s",
                MiBPerSecond(uploadBytes, bestTransfer),
                p == 0 ? "100.0 %" : Format.Percent(directBest / bestTransfer, 1));
        }

        return $"""
            `docker buildx build --progress=plain` (the real buildx CLI, remote driver, a builder per path)
            through the gateway and directly to the daemon the gateway places the context's key on
            (key = context directory name: `bench-small` on {smallPaths[0].Daemon}, `bench-upload` on {uploadPaths[0].Daemon}).
            Wall time is the whole buildx process, start to exit; paths alternate run by run after one
            unmeasured build each.

            Small context (`FROM scratch`, 3 `COPY` steps of fresh 32-byte files), {smallRuns} run(s) per path:
            cold = new content, every step built; warm = the same context again, every step CACHED.

            {builds.ToString().TrimEnd()}

            The gateway held a small build's `Solve` {(held.Count == 0 ? "(no summaries)" : $"{Format.Micros(Median(held) * 1000)} (median of {held.Count}; max {Format.Micros(held.Max() * 1000)})")}
            before forwarding it (its per-build summary's wait: correlating the build's calls, placement, admission).

            Build-context upload: a {Format.Bytes(uploadBytes)} file of fresh random bytes every run, `COPY` into a
            scratch image (nothing cached), {uploadRuns} run(s) per path. "Context transfer" is buildx's own
            `[internal] load build context` step (0.1 s resolution): the file crossing the `Session` stream.
            Wall time adds the daemon writing the layer.

            {throughput.ToString().TrimEnd()}
            """;
    }

    private static double Median(List<double> values)
    {
        var sorted = Percentiles.Sorted(values);
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static string MiBPerSecond(int bytes, double seconds) =>
        seconds <= 0 ? "—" : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)MiB / seconds:F1} MiB/s");
}
