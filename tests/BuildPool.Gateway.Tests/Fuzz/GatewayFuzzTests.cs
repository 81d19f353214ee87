using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BuildPool.Gateway.Tests.Server;
using Xunit.Abstractions;

namespace BuildPool.Gateway.Tests.Fuzz;

/// <summary>
/// Issue 10 item 6, second half: malformed HTTP/2, truncated gRPC messages and random protobuf
/// thrown at the gateway over raw TCP, one connection per input. After every batch the gateway
/// still runs, a real build on a fresh connection succeeds, and no admission slot or placement
/// load is left behind. The seed is printed; <c>BUILDPOOL_FUZZ_SEED</c> reruns one.
/// </summary>
public sealed class GatewayFuzzTests(ITestOutputHelper output)
{
    private const string SeedVariable = "BUILDPOOL_FUZZ_SEED";
    private const int Parallelism = 16;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan InputDeadline = TimeSpan.FromSeconds(10);

    // The normal suite uses a fixed seed (deterministic); the chaos run a fresh one each time.
    [Fact]
    public Task Two_thousand_hostile_inputs_neither_crash_the_gateway_nor_leak_a_slot() =>
        FuzzAsync(inputs: 2_000, batch: 500, defaultSeed: 10_6_2026);

    [Fact]
    [Trait("Category", "Chaos")]
    public Task A_hundred_thousand_hostile_inputs_neither_crash_the_gateway_nor_leak_a_slot() =>
        FuzzAsync(inputs: 100_000, batch: 5_000, defaultSeed: null);

    private async Task FuzzAsync(int inputs, int batch, int? defaultSeed)
    {
        var seed = SeedFromEnvironment() ?? defaultSeed ?? Random.Shared.Next();
        output.WriteLine($"fuzz seed {seed} (rerun with {SeedVariable}={seed})");
        await using var harness = await GatewayHarness.StartAsync();
        var stats = new FuzzStats();
        var clock = Stopwatch.StartNew();
        var checks = 0;
        for (var from = 0; from < inputs; from += batch)
        {
            var to = Math.Min(inputs, from + batch);
            try
            {
                await Parallel.ForEachAsync(
                    Enumerable.Range(from, to - from),
                    new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
                    async (index, _) => await SendAsync(harness.Gateway, InputAt(seed, index), new Random(InputSeed(seed, index) ^ 0x5A5A5A5A), stats));
                await AssertUnharmedAsync(harness, $"fuzz-check-{from}");
                checks++;
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"Fuzz seed {seed} (rerun with {SeedVariable}={seed}), inputs {from}..{to - 1}: {ex.Message}{Environment.NewLine}{stats}", ex);
            }
        }

        output.WriteLine($"{inputs} inputs in {clock.Elapsed.TotalSeconds:F1} s, {checks} health checks; {stats}; Solve calls the builders ran: {harness.Fleet.Builders.Sum(b => b.Builds.Calls.Count(c => c.Method == "Solve"))}");
        Assert.Equal(0, stats.ConnectFailures);
    }

    /// <summary>The input with this index of this seed's run (for reproducing a single input in a debugger).</summary>
    internal static FuzzInput InputAt(int seed, int index) => FuzzInputs.Next(new Random(InputSeed(seed, index)));

    private static int InputSeed(int seed, int index) => unchecked((seed * 1_000_003) + index);

    private static int? SeedFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : null;

    /// <summary>The gateway runs, has nothing left over from the fuzz connections, and still builds.</summary>
    private static async Task AssertUnharmedAsync(GatewayHarness harness, string project)
    {
        var gateway = harness.Gateway;
        Assert.False(gateway.Stopping.IsCancellationRequested, "the gateway began stopping");
        await NothingHeldAsync(gateway, "after the fuzz connections closed");

        var result = await harness.Client.BuildAsync(GatewayHarness.Project(project)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.Succeeded, $"a real build on a fresh connection failed: {result}");

        await NothingHeldAsync(gateway, "after the real build");
    }

    private static Task NothingHeldAsync(Gateway.Server.GatewayServer gateway, string when) =>
        BuildPool.TestDoubles.Eventually.WaitAsync(
            () => Task.FromResult((Running: gateway.Admission.TotalRunning, Queued: gateway.Admission.TotalQueued, Load: gateway.Placement.TotalLoad)),
            held => held is { Running: 0, Queued: 0, Load: 0 },
            $"no admission slot, queued build or placement load held {when}",
            TimeSpan.FromSeconds(15));

    private static async Task SendAsync(Gateway.Server.GatewayServer gateway, FuzzInput input, Random random, FuzzStats stats)
    {
        var endPoint = gateway.EndPoint;
        using var deadline = new CancellationTokenSource(InputDeadline);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, deadline.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            stats.Count(ref stats.ConnectFailures);
            return;
        }

        try
        {
            foreach (var write in input.Writes)
            {
                await socket.SendAsync(write, SocketFlags.None, deadline.Token);
            }

            // Shows the leak check is not vacuous: fuzz Solves do take load while their connection is open.
            stats.ObserveLoad(gateway.Placement.TotalLoad, gateway.Admission.TotalRunning);

            switch (input.Close)
            {
                case FuzzClose.Abort:
                    if (random.Next(2) == 0)
                    {
                        socket.LingerState = new LingerOption(true, 0);
                    }

                    stats.Count(ref stats.Aborted);
                    break;
                case FuzzClose.HalfClose:
                    socket.Shutdown(SocketShutdown.Send);
                    await ReadUntilClosedAsync(socket, stats, deadline.Token);
                    break;
                default:
                    await ReadUntilClosedAsync(socket, stats, deadline.Token);
                    break;
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            // The gateway reset the connection: an acceptable answer to garbage.
            stats.Count(ref stats.Reset);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            stats.Count(ref stats.Stuck);
        }
    }

    private static async Task ReadUntilClosedAsync(Socket socket, FuzzStats stats, CancellationToken deadline)
    {
        var buffer = new byte[16 * 1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }

            stats.Count(ref stats.ClosedByGateway);
        }
        catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
        {
            stats.Count(ref stats.ReadTimedOut);
        }
    }

    private sealed class FuzzStats
    {
        public int ConnectFailures;
        public int Aborted;
        public int ClosedByGateway;
        public int ReadTimedOut;
        public int Reset;
        public int Stuck;
        public long PeakLoad;
        public long PeakRunning;

        public void ObserveLoad(long load, long running)
        {
            InterlockedMax(ref PeakLoad, load);
            InterlockedMax(ref PeakRunning, running);
        }

        private static void InterlockedMax(ref long target, long value)
        {
            var seen = Interlocked.Read(ref target);
            while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var actual && actual != seen)
            {
                seen = actual;
            }
        }

        public void Count(ref int counter) => Interlocked.Increment(ref counter);

        public override string ToString() =>
            $"client aborted {Aborted}, gateway closed {ClosedByGateway}, gateway reset {Reset}, read timed out (left open) {ReadTimedOut}, " +
            $"send stuck {Stuck}, connect failures {ConnectFailures}; peak placement load {PeakLoad}, peak running builds {PeakRunning} (while connections were open)";
    }
}
