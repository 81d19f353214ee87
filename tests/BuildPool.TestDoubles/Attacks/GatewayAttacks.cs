using System.Net.Sockets;
using System.Text;
using BuildPool.BuildKit.Protocol;
using BuildPool.Http2;
using Google.Protobuf;

namespace BuildPool.TestDoubles.Attacks;

/// <summary>
/// The attacks of issue 19 that one client can make on the gateway's door, each sized (long count)
/// as the issue found would exhaust a 1 GiB gateway pod before the limits.
/// </summary>
public static class GatewayAttacks
{
    private const string Control = "/moby.buildkit.v1.Control/";

    // Just under gRPC's 4 MiB message limit, which the gateway's peek follows.
    private const int HugeRefLength = (4 * 1024 * 1024) - 64;

    // The largest id a 64 KiB request header list comfortably carries next to the other headers.
    private const int LongIdLength = 16 * 1024;

    // How long one call's request may take to go out before the attacker moves on to the next.
    private static readonly TimeSpan StalledWrite = TimeSpan.FromSeconds(10);

    // Streams per attacking connection: under the gateway's 256, so the attack is not refused by HTTP/2 alone.
    private const int StreamsPerConnection = 200;

    // Requests one attack writes at the same time.
    private const int WritesInFlight = 32;

    public static IReadOnlyList<GatewayAttack> All { get; } =
    [
        new("huge-refs", "Status calls whose ref is just under 4 MiB, held open", 24, 150, HugeRefsAsync),
        new("reset-sessions", "Session calls with 16 KiB session ids, each reset right after its headers", 2_000, 20_000, ResetSessionsAsync),
        new("session-flood", "Session calls with distinct session ids and no Solve, held open", 400, 5_000, SessionFloodAsync),
        new("compressed-solves", "Solves the gateway cannot read (compressed flag set), held open", 64, 1_000, CompressedSolvesAsync),
        new("never-reading", "builds whose Session the builder echoes, pushed 16 MiB each while the client never reads the echo", 16, 64, NeverReadingAsync),
        new("idle-connections", "HTTP/2 connections that finish the preface and then send nothing", 300, 3_000, IdleConnectionsAsync),
        new("silent-connections", "TCP connections that never send the HTTP/2 preface", 300, 3_000, SilentConnectionsAsync),
    ];

    public static GatewayAttack Named(string name) => All.Single(a => a.Name == name);

    private static Task<AttackTally> HugeRefsAsync(AttackClient client, int count, TaskCompletionSource armed, CancellationToken token) =>
        HeldCallsAsync(client, count, armed, token, async (connection, i, ct) =>
        {
            // Each ref distinct (its number first), so the gateway cannot share one record among them.
            var request = new StatusRequest { Ref = i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(HugeRefLength, 'r') };
            return await AttackClient.SendAsync(connection, client.Headers(Control + "Status"), request, compressed: false, endRequest: true, ct);
        });

    private static Task<AttackTally> SessionFloodAsync(AttackClient client, int count, TaskCompletionSource armed, CancellationToken token) =>
        HeldCallsAsync(client, count, armed, token, (connection, i, ct) =>
            AttackClient.SendAsync(connection, client.Headers(Control + "Session", new KeyValuePair<string, string>("x-docker-expose-session-uuid", FakeBuildxOptions.NewId())), null, compressed: false, endRequest: false, ct));

    private static Task<AttackTally> CompressedSolvesAsync(AttackClient client, int count, TaskCompletionSource armed, CancellationToken token) =>
        HeldCallsAsync(client, count, armed, token, (connection, i, ct) =>
            AttackClient.SendAsync(connection, client.Headers(Control + "Solve"), new SolveRequest { Ref = FakeBuildxOptions.NewId(), Session = FakeBuildxOptions.NewId() }, compressed: true, endRequest: true, ct));

    /// <summary>
    /// Opens <paramref name="count"/> calls over as few connections as the stream limit allows, and
    /// holds them until the token fires. Requests go out <see cref="WritesInFlight"/> at a time: a
    /// call the gateway refused and stopped reading waits out <see cref="StalledWrite"/>, and one
    /// at a time that would make the full-size attacks take longer than the attack itself.
    /// </summary>
    private static async Task<AttackTally> HeldCallsAsync(
        AttackClient client, int count, TaskCompletionSource armed, CancellationToken token, Func<Http2ClientConnection, int, CancellationToken, Task<Http2ClientStream>> start, bool readAnswers = true)
    {
        var tally = new AttackTally();
        var connections = new List<Http2ClientConnection>();
        var calls = new List<Task>();
        var written = new List<Task>();
        using var inFlight = new SemaphoreSlim(WritesInFlight);
        Http2ClientConnection? broken = null;
        try
        {
            Http2ClientConnection? connection = null;
            for (var i = 0; i < count && !token.IsCancellationRequested; i++)
            {
                tally.CountSent();
                if (connection is null || connection == Volatile.Read(ref broken) || i % StreamsPerConnection == 0)
                {
                    try
                    {
                        connection = await client.ConnectAsync(token);
                        connections.Add(connection);
                    }
                    catch (Exception ex) when (ex is Http2ConnectionException or IOException or SocketException)
                    {
                        tally.Count("connection closed", ex.Message);
                        connection = null;
                        continue;
                    }
                }

                await inFlight.WaitAsync(token);
                var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                written.Add(sent.Task);
                calls.Add(CallAsync(connection, i, sent));
            }

            // Every request is out (or stalled): the attack is in place.
            await Task.WhenAll(written);
            armed.TrySetResult();
            await Task.WhenAll(calls);
            return tally;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            await Task.WhenAll(calls);
            return tally;
        }
        finally
        {
            armed.TrySetResult();
            foreach (var open in connections)
            {
                await open.DisposeAsync();
            }
        }

        async Task CallAsync(Http2ClientConnection connection, int i, TaskCompletionSource sent)
        {
            Http2ClientStream stream;
            try
            {
                stream = await start(connection, i, token).WaitAsync(StalledWrite, token);
            }
            catch (TimeoutException)
            {
                // The gateway answered (or refused) and stopped reading what is left of the
                // request; the call ends with its connection when the attack does.
                tally.Count("request write stalled", $"no window to send the rest of the request within {StalledWrite.TotalSeconds} s");
                return;
            }
            catch (Exception ex) when (ex is Http2ConnectionException or Http2StreamException or IOException or SocketException)
            {
                tally.Count("connection closed", ex.Message);
                Volatile.Write(ref broken, connection);
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                inFlight.Release();
                sent.TrySetResult();
            }

            await (readAnswers ? AttackClient.AnswerAsync(stream, tally, token) : UnreadAsync(stream, tally, token));
        }
    }

    private static async Task<AttackTally> ResetSessionsAsync(AttackClient client, int count, TaskCompletionSource armed, CancellationToken token)
    {
        var tally = new AttackTally();
        var id = new StringBuilder(LongIdLength);
        Http2ClientConnection? connection = null;
        try
        {
            for (var i = 0; i < count && !token.IsCancellationRequested; i++)
            {
                tally.CountSent();
                try
                {
                    connection ??= await client.ConnectAsync(token);
                    id.Clear().Append(i).Append('-').Append('s', LongIdLength - 8);
                    var stream = await connection.StartStreamAsync(
                        client.Headers(Control + "Session", new KeyValuePair<string, string>("x-docker-expose-session-uuid", id.ToString())), endStream: false, token);
                    stream.Reset();
                    await stream.DisposeAsync();
                    tally.Count("reset by the client", null);
                }
                catch (Exception ex) when (ex is Http2ConnectionException or Http2StreamException or IOException or SocketException)
                {
                    tally.Count("connection closed", ex.Message);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                    }

                    connection = null;
                }
            }

            armed.TrySetResult();
            await HoldAsync(token);
            return tally;
        }
        finally
        {
            armed.TrySetResult();
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<AttackTally> NeverReadingAsync(AttackClient client, int count, TaskCompletionSource armed, CancellationToken token)
    {
        const int PerCall = 16 * 1024 * 1024;
        var message = GrpcMessageReader.Frame(new BytesMessage { Data = Google.Protobuf.ByteString.CopyFrom(new byte[(64 * 1024) - 16]) }.ToByteArray());
        var pushing = new List<Task>();
        var result = await HeldCallsAsync(client, count, armed, token, async (connection, i, ct) =>
        {
            // A build whose Solve named the session, so the builder serves (echoes) it.
            var session = FakeBuildxOptions.NewId();
            var stream = await AttackClient.SendAsync(
                connection, client.Headers(Control + "Session", new KeyValuePair<string, string>("x-docker-expose-session-uuid", session)), new BytesMessage(), compressed: false, endRequest: false, ct);
            await using (var solve = await AttackClient.SendAsync(connection, client.Headers(Control + "Solve"), new SolveRequest { Ref = FakeBuildxOptions.NewId(), Session = session }, compressed: false, endRequest: true, ct))
            {
                await AttackClient.AnswerAsync(solve, new AttackTally(), ct);
            }

            lock (pushing)
            {
                pushing.Add(PushAsync(stream, message, PerCall, ct));
            }

            return stream;
        },
        readAnswers: false);
        await Task.WhenAll(pushing);
        return result;
    }

    // Writes into the Session until PerCall bytes went out or the writes stall for good (the attack ends).
    private static async Task PushAsync(Http2ClientStream stream, byte[] message, int bytes, CancellationToken token)
    {
        try
        {
            for (var sent = 0; sent < bytes; sent += message.Length)
            {
                await stream.WriteAsync(message, token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or Http2StreamException or Http2ConnectionException or IOException or ObjectDisposedException)
        {
        }
    }

    private static Task<AttackTally> IdleConnectionsAsync(AttackClient client, int count, TaskCompletionSource armed, CancellationToken token) =>
        HeldConnectionsAsync(count, armed, token, async ct =>
        {
            var connection = await client.ConnectAsync(ct);
            return (connection.DisposeAsync, connection.Completion);
        });

    private static Task<AttackTally> SilentConnectionsAsync(AttackClient client, int count, TaskCompletionSource armed, CancellationToken token) =>
        HeldConnectionsAsync(count, armed, token, async ct =>
        {
            var socket = await client.OpenSocketAsync(ct);
            return (() => { socket.Dispose(); return ValueTask.CompletedTask; }, ClosedByPeerAsync(socket));
        });

    // Holds a call open without ever reading its answer.
    private static async Task UnreadAsync(Http2ClientStream stream, AttackTally tally, CancellationToken token)
    {
        await HoldAsync(token);
        tally.Count("held open, never read", null);
        await stream.DisposeAsync();
    }

    private static async Task HoldAsync(CancellationToken token)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Completes when the gateway closes the socket (a read returns 0 or fails).</summary>
    private static async Task ClosedByPeerAsync(Socket socket)
    {
        var buffer = new byte[1024];
        try
        {
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Opens <paramref name="count"/> connections and holds them; counts those the gateway refused or closed while held.</summary>
    private static async Task<AttackTally> HeldConnectionsAsync(
        int count, TaskCompletionSource armed, CancellationToken token, Func<CancellationToken, Task<(Func<ValueTask> Close, Task Closed)>> open)
    {
        var tally = new AttackTally();
        var held = new List<(Func<ValueTask> Close, Task Closed)>();
        try
        {
            for (var i = 0; i < count && !token.IsCancellationRequested; i++)
            {
                tally.CountSent();
                try
                {
                    held.Add(await open(token).WaitAsync(TimeSpan.FromSeconds(10), token));
                }
                catch (Exception ex) when (ex is Http2ConnectionException or IOException or SocketException or TimeoutException)
                {
                    tally.Count("refused", ex.Message);
                }
            }

            armed.TrySetResult();
            await HoldAsync(token);
            var closed = held.Count(h => h.Closed.IsCompleted);
            tally.Count("closed by the gateway", null, closed);
            tally.Count("held open", null, held.Count - closed);
            return tally;
        }
        finally
        {
            armed.TrySetResult();
            foreach (var (close, _) in held)
            {
                await close();
            }
        }
    }
}
