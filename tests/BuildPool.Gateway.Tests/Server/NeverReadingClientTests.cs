using System.Diagnostics;
using System.Runtime.CompilerServices;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Xunit.Abstractions;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// A client that opens many builds and never reads their responses must not make the gateway
/// hold what the builders send them: the builders' streams stop, the gateway does not.
/// </summary>
public sealed class NeverReadingClientTests(ITestOutputHelper output)
{
    private const int MiB = 1024 * 1024;
    private const int AttackStreams = 24;
    private const int MessageBytes = 256 * 1024;

    // Just under the 16 MiB receive window upstream streams used to have, so that all of it fit.
    private const int BytesPerStream = 15 * MiB;

    [Fact]
    public async Task A_client_that_never_reads_its_sessions_leaves_gateway_memory_bounded_and_other_builds_complete()
    {
        // The data-rate cut is off here: the buffer bounds alone must hold the attack.
        await using var harness = await GatewayHarness.StartAsync(builders: 2, configure: o => o with { MinResponseDataRate = null });
        var limits = new GatewayOptions();
        await HonestBuildsAsync(harness, "warm-up");
        var before = await HonestBuildsAsync(harness, "before");
        var idle = GC.GetTotalMemory(forceFullCollection: true);

        await using var attacker = await OpenAttackerAsync(harness);
        var sessions = await OpenSessionsAsync(attacker, AttackStreams);
        using var stop = new CancellationTokenSource();
        var sent = new StrongBox<long>();
        var pumps = Pump(sessions, sent, stop.Token);
        const long AttackMessages = (long)AttackStreams * (BytesPerStream / MessageBytes);
        // Either everything was echoed (what the gateway did before it bounded its buffers), or
        // the unread streams filled what they may hold and the builders stopped sending.
        await Eventually.TrueAsync(
            () => Echoed(harness) >= AttackMessages || harness.Gateway.UpstreamBuffer.BufferedBytes >= AttackStreams * (limits.UpstreamStreamBuffer / 4L),
            "the unread streams filled up",
            TimeSpan.FromSeconds(60));

        var during = await HonestBuildsAsync(harness, "during the attack");
        var growth = GC.GetTotalMemory(forceFullCollection: true) - idle;
        var buffered = harness.Gateway.UpstreamBuffer.MaxBufferedBytes;
        output.WriteLine($"gateway memory above idle under the attack: {growth / MiB} MiB; upstream buffers peaked at {buffered / MiB} MiB ({Echoed(harness)} of {AttackMessages} messages echoed)");
        output.WriteLine($"sent by the client and not yet echoed (upload side): {(Interlocked.Read(ref sent.Value) - (Echoed(harness) * MessageBytes)) / MiB} MiB");
        output.WriteLine($"honest builds (4 at once): {before.TotalMilliseconds:F0} ms before the attack, {during.TotalMilliseconds:F0} ms during it");

        Assert.True(Echoed(harness) < AttackMessages, "the builders were able to send everything to a client that reads nothing");
        Assert.True(buffered <= AttackStreams * (long)limits.UpstreamStreamBuffer, $"{buffered} bytes buffered for {AttackStreams} streams of at most {limits.UpstreamStreamBuffer}");
        Assert.True(growth < 128L * MiB, $"the gateway holds {growth / MiB} MiB more than idle for a client that reads nothing");
        await stop.CancelAsync();
        await attacker.DisposeAsync();
        await Task.WhenAll(pumps).Within(30);
        await Eventually.TrueAsync(() => harness.Gateway.UpstreamBuffer.BufferedBytes == 0, "the gateway drops what it held once the client is gone");
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_cut_after_the_minimum_response_data_rate_grace_and_its_buffers_are_freed()
    {
        await using var harness = await GatewayHarness.StartAsync(
            builders: 1,
            // Kestrel allows a write its bytes' worth of time at the rate (here the client's 128 KiB
            // window takes 2 s), or the grace period if that is longer.
            configure: o => o with { MinResponseDataRate = 64 * 1024, MinResponseDataRateGrace = TimeSpan.FromSeconds(2) });
        await using var attacker = await OpenAttackerAsync(harness);
        var sessions = await OpenSessionsAsync(attacker, 4);
        using var stop = new CancellationTokenSource();
        var pumps = Pump(sessions, new StrongBox<long>(), stop.Token);

        await attacker.Closed.Within(60);
        await Task.WhenAll(pumps).Within(30);
        await Eventually.TrueAsync(() => harness.Gateway.UpstreamBuffer.BufferedBytes == 0, "the gateway drops what it held for the cut client");
        await Eventually.TrueAsync(() => harness.Fleet[0].Builds.Sessions.All(s => !s.IsActive), "the builder's sessions of the cut client end");
        await stop.CancelAsync();

        await HonestBuildsAsync(harness, "after the cut");
    }

    // One connection that reads nothing, with a small window so that it holds next to nothing itself.
    private static Task<OneConnection> OpenAttackerAsync(GatewayHarness harness) => OneConnection.OpenAsync(
        harness.Gateway.EndPoint,
        new Http2ClientConnectionOptions { InitialStreamWindowSize = 65_535, InitialConnectionWindowSize = 2 * 65_535 });

    private static async Task<List<Http2ClientStream>> OpenSessionsAsync(OneConnection attacker, int count)
    {
        var sessions = new List<Http2ClientStream>();
        for (var i = 0; i < count; i++)
        {
            sessions.Add(await attacker.OpenSessionAsync().Within(30));
        }

        return sessions;
    }

    private static long Echoed(GatewayHarness harness) =>
        harness.Fleet.Builders.SelectMany(b => b.Builds.Sessions).Sum(s => s.MessagesEchoed);

    private static List<Task> Pump(List<Http2ClientStream> sessions, StrongBox<long> sent, CancellationToken cancellationToken)
    {
        var message = OneConnection.SessionMessage(MessageBytes - 5);
        return sessions.Select(s => PumpAsync(s, message, sent, cancellationToken)).ToList();
    }

    // Sends into a Session the builder echoes back; the echo is never read.
    private static async Task PumpAsync(Http2ClientStream session, byte[] message, StrongBox<long> sent, CancellationToken cancellationToken)
    {
        try
        {
            for (var bytes = 0; bytes < BytesPerStream; bytes += message.Length)
            {
                await session.WriteAsync(message, cancellationToken);
                Interlocked.Add(ref sent.Value, message.Length);
            }
        }
        catch (OperationCanceledException)
        {
            // The test is over; the writes were stuck behind windows nobody credits.
        }
        catch (Exception ex) when (ex is Http2StreamException or Http2ConnectionException)
        {
            // The gateway cut the client, or the test closed it.
        }
    }

    // Four builds at once, each on its own connection; the time they took together.
    private static async Task<TimeSpan> HonestBuildsAsync(GatewayHarness harness, string label)
    {
        var stopwatch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => harness.Client.BuildAsync(GatewayHarness.Project($"honest-{label.Replace(' ', '-')}-{i}")))).Within(60);
        Assert.All(results, r => Assert.True(r.Succeeded, $"{label}: {r}"));
        return stopwatch.Elapsed;
    }
}
