using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace BuildPool.TestDoubles.Attacks;

/// <summary>
/// The production gateway (<c>buildpool gateway</c>, its own process, default limits) in front of
/// fake builders, with honest buildx-shaped builds from 127.0.0.1 and one attacker from
/// 127.0.0.2. <see cref="RunAsync"/> measures the honest builds without the attack, then with it,
/// side by side, and the gateway's resident memory above idle while the attack holds.
/// </summary>
public sealed class AttackSuite : IAsyncDisposable
{
    /// <summary>What issue 19 allows one client to cost the gateway.</summary>
    public const long MemoryBudgetBytes = 256L * 1024 * 1024;

    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");
    private readonly FakeBuilderFleet _fleet;
    private readonly GatewayProcess _gateway;
    private readonly ProcessMemory _memory;
    private readonly HttpClient _metrics;

    private AttackSuite(FakeBuilderFleet fleet, GatewayProcess gateway)
    {
        _fleet = fleet;
        _gateway = gateway;
        _memory = new ProcessMemory(gateway.Id);
        _metrics = new HttpClient { BaseAddress = new Uri($"http://{gateway.MetricsEndPoint.Host}:{gateway.MetricsEndPoint.Port}/") };
    }

    /// <summary>Honest builds per run: lanes building one after another, each lane its own project.</summary>
    public int Lanes { get; init; } = 2;

    public int BuildsPerLane { get; init; } = 3;

    /// <summary>Starts the gateway from the Host build output; throws naming the missing build when there is none.</summary>
    public static async Task<AttackSuite> StartAsync(IEnumerable<string>? gatewayArguments = null, CancellationToken cancellationToken = default)
    {
        var host = GatewayProcess.FindHost()
            ?? throw new InvalidOperationException("The attack suite runs the gateway from src/BuildPool.Host's build output: run `make build` first.");
        var fleet = await FakeBuilderFleet.StartAsync(2, "honest-", cancellationToken);
        try
        {
            fleet.Configure(b => b.SolveDuration = TimeSpan.FromMilliseconds(100));
            var gateway = await GatewayProcess.StartAsync(host, fleet.BackendArguments, cancellationToken, gatewayArguments);
            return new AttackSuite(fleet, gateway);
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    // Generous: the full-size attacks write hundreds of MiB, and a loaded machine writes slowly.
    private static readonly TimeSpan ArmTimeout = TimeSpan.FromMinutes(10);

    public async Task<AttackReport> RunAsync(GatewayAttack attack, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attack);
        // Warm-up and baseline: JIT and connection set-up are behind both measured runs.
        await HonestAsync(cancellationToken);
        var baseline = await HonestAsync(cancellationToken);
        var idle = _memory.ResidentBytes();

        AttackTally tally;
        (List<TimeSpan> Times, List<string> Failures) honest;
        long peak;
        await using (var sampling = _memory.Sample(TimeSpan.FromMilliseconds(20)))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var client = new AttackClient(_gateway.EndPoint, Attacker);
            var running = Task.Run(() => attack.RunAsync(client, count, armed, stop.Token), CancellationToken.None);
            try
            {
                await armed.Task.WaitAsync(ArmTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"The {attack.Name} attack did not get its {count} calls out within {ArmTimeout.TotalMinutes} minutes.");
            }
            honest = await HonestAsync(cancellationToken);
            peak = sampling.Peak;
            await stop.CancelAsync();
            tally = await running.WaitAsync(TimeSpan.FromMinutes(1), cancellationToken);
        }

        // What the attack left behind once its client is gone: tracked builds and queue entries.
        var settle = Stopwatch.StartNew();
        double active, queued;
        do
        {
            active = await MetricAsync("buildpool_gateway_active_builds", cancellationToken);
            queued = await MetricAsync("buildpool_gateway_queued_builds", cancellationToken);
            if (active == 0 && queued == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        while (settle.Elapsed < TimeSpan.FromSeconds(30));

        return new AttackReport(
            attack,
            count,
            idle,
            Math.Max(0, peak - idle),
            honest.Times.Count,
            Lanes * BuildsPerLane,
            honest.Failures,
            Median(baseline.Times),
            Median(honest.Times),
            tally,
            active,
            queued);
    }

    public async ValueTask DisposeAsync()
    {
        _metrics.Dispose();
        await _gateway.DisposeAsync();
        await _fleet.DisposeAsync();
    }

    private async Task<(List<TimeSpan> Times, List<string> Failures)> HonestAsync(CancellationToken cancellationToken)
    {
        var client = FakeBuildxClient.For(_gateway.Address);
        var times = new List<TimeSpan>();
        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, Lanes).Select(async lane =>
        {
            for (var i = 0; i < BuildsPerLane; i++)
            {
                var watch = Stopwatch.StartNew();
                var result = await client.BuildAsync(new FakeBuildxOptions { ContextName = $"honest-{lane}", Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);
                lock (times)
                {
                    if (result.Succeeded)
                    {
                        times.Add(watch.Elapsed);
                    }
                    else
                    {
                        failures.Add(result.ToString());
                    }
                }
            }
        }));
        return (times, failures);
    }

    /// <summary>The sum of a metric's series on the gateway's Prometheus endpoint; 0 when it has none yet.</summary>
    private async Task<double> MetricAsync(string name, CancellationToken cancellationToken)
    {
        var text = await _metrics.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken);
        var sum = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is '{' or ' ')
            {
                // name{labels} value [timestamp]
                var afterLabels = line[(line.IndexOf('}', StringComparison.Ordinal) + 1)..].Trim();
                sum += double.Parse(afterLabels.Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    private static TimeSpan Median(List<TimeSpan> times) =>
        times.Count == 0 ? TimeSpan.Zero : times.Order().ElementAt(times.Count / 2);
}
