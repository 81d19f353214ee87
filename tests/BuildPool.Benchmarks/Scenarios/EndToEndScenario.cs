using System.Net;
using BuildPool.Benchmarks.Report;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// Real buildkitd daemons, when <c>BUILDPOOL_BENCH_BUILDKIT</c> lists their addresses
/// (<c>tcp://host:port,tcp://host:port</c>): the same calls through the gateway and directly;
/// with <c>BUILDPOOL_BENCH_BUILDX</c> (a buildx binary) also whole builds (<see cref="BuildxComparison"/>).
/// </summary>
internal static class EndToEndScenario
{
    public const string Variable = "BUILDPOOL_BENCH_BUILDKIT";

    public const string BuildxVariable = "BUILDPOOL_BENCH_BUILDX";

    public static async Task<string> RunAsync(bool quick)
    {
        var addresses = Environment.GetEnvironmentVariable(Variable)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        if (addresses.Length == 0)
        {
            return $"""
                ## End-to-end with real daemons

                skipped: set {Variable} to real buildkitd addresses (`tcp://host:port,tcp://host:port`), and
                {BuildxVariable} to a buildx binary for cold/warm builds and build-context upload throughput.
                """;
        }

        var calls = quick ? 50 : 500;
        var backends = addresses.Select((a, i) => StaticBackendParser.Parse($"real-{i}={a}")).ToList();
        await using var gateway = await GatewayServer.StartAsync(new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Backends = backends,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var direct = await RawGrpc.ConnectAsync(backends[0].EndPoint, cancellationToken: timeout.Token);
        await using var through = await RawGrpc.ConnectAsync(new DnsEndPoint("127.0.0.1", gateway.EndPoint.Port), cancellationToken: timeout.Token);
        var clients = new[] { direct, through };
        var samples = new[] { new List<double>(), new List<double>() };
        for (var i = 0; i < calls; i++)
        {
            for (var j = 0; j < 2; j++)
            {
                var k = (i + j) % 2;
                samples[k].Add(await clients[k].InfoAsync(timeout.Token));
            }
        }

        var buildx = Environment.GetEnvironmentVariable(BuildxVariable);
        var builds = string.IsNullOrEmpty(buildx)
            ? $"Whole builds skipped: set {BuildxVariable} to a buildx binary for cold/warm build time and build-context upload throughput."
            : await BuildxComparison.RunAsync(buildx, gateway, backends.Select((b, i) => (b.Name, Address: addresses[i])).ToDictionary(b => b.Name, b => b.Address), quick);

        var table = new MarkdownTable("path", "p50", "p99");
        foreach (var (name, values) in new[] { ("direct", samples[0]), ("gateway", samples[1]) })
        {
            var sorted = Percentiles.Sorted(values);
            table.Add(name, Format.Micros(Percentiles.Of(sorted, 50)), Format.Micros(Percentiles.Of(sorted, 99)));
        }

        return $"""
            ## End-to-end with real daemons

            {addresses.Length} buildkitd daemon(s) from {Variable}; `Control/Info` latency, {calls:N0} calls per path,
            interleaved, direct to the first daemon vs through the gateway.

            {table.ToString().TrimEnd()}

            {builds}
            """;
    }
}
