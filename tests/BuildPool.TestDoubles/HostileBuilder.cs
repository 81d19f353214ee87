using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using BuildPool.Http2;

namespace BuildPool.TestDoubles;

/// <summary>
/// A builder that does not play fair, for attacks on the gateway's upstream HTTP/2 client
/// (builders may run untrusted code). Two kinds:
/// <list type="bullet">
/// <item><see cref="Start"/>: speaks raw HTTP/2 itself. Bootstrap calls (<c>Info</c>,
/// <c>ListWorkers</c>) get an honest empty answer; every other request gets what
/// <see cref="Answer"/> returns: malformed frames, HPACK bombs, floods, a slow drip, silence, or a
/// connection that stops reading.</item>
/// <item><see cref="Relay"/>: a TCP proxy in front of an honest builder that can
/// <see cref="Freeze"/>, moving no byte either way from then on, as a SIGSTOPped daemon or a lost
/// node does.</item>
/// </list>
/// It counts how each connection ended (<see cref="Outcomes"/>), so a test can tell that every
/// connection came to a defined end.
/// </summary>
public sealed class HostileBuilder : IAsyncDisposable
{
    private static readonly byte[] ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly DnsEndPoint? _relayTo;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _thawed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();
    private readonly ConcurrentDictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private readonly ConcurrentDictionary<(object Connection, int StreamId), (string Kind, long Since)> _openStreams = new();
    private readonly Task _accepting;
    private int _connections;
    private int _open;
    private int _requests;
    private volatile bool _frozen;

    private HostileBuilder(string name, DnsEndPoint? relayTo, Func<HostileRequest, HostileAnswer> answer)
    {
        Name = name;
        _relayTo = relayTo;
        Answer = answer;
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        EndPoint = new DnsEndPoint("127.0.0.1", port);
        _accepting = AcceptAsync();
    }

    public string Name { get; }

    public DnsEndPoint EndPoint { get; }

    /// <summary><c>tcp://127.0.0.1:port</c>, as a <c>--backend</c> takes it.</summary>
    public string Address => $"tcp://127.0.0.1:{EndPoint.Port}";

    /// <summary>The answer to each forwarded request; may be swapped while running.</summary>
    public Func<HostileRequest, HostileAnswer> Answer { get; set; }

    /// <summary>Whether the raw builder answers PINGs (an honest peer does; a frozen one cannot).</summary>
    public bool AnswerPings { get; set; }

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS the raw builder announces; 1 gives every call a connection of its own.</summary>
    public uint MaxConcurrentStreams { get; set; } = 100;

    /// <summary>
    /// One answer per connection: GOAWAY (NO_ERROR, last stream = the first build request) before
    /// the answer, and RST_STREAM REFUSED_STREAM for a request that crossed it, even when an
    /// answer raised SETTINGS_MAX_CONCURRENT_STREAMS. Otherwise other calls' answers on the same
    /// connection keep it alive around a silent answer: a long build to the gateway, as on a
    /// real builder, which only its client's deadline ends.
    /// </summary>
    public bool OneAnswerPerConnection { get; set; }

    /// <summary>Connections the gateway opened.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections open now.</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>Requests answered through <see cref="Answer"/>.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>How connections ended: "gateway GOAWAY ENHANCE_YOUR_CALM", "gateway closed", "builder closed", ...</summary>
    public IReadOnlyDictionary<string, int> Outcomes => _outcomes.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>
    /// Answered streams (answers that keep reading and keep the connection open) the gateway has
    /// neither reset nor closed the connection of for at least <paramref name="age"/>, counted by
    /// answer kind: where to look when a build never ended. Includes streams the answer ended itself.
    /// </summary>
    public IReadOnlyDictionary<string, int> StreamsOpenLongerThan(TimeSpan age) =>
        _openStreams.Values
            .Where(s => System.Diagnostics.Stopwatch.GetElapsedTime(s.Since) >= age)
            .GroupBy(s => s.Kind, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>A raw HTTP/2 builder answering every build request with <paramref name="answer"/>.</summary>
    public static HostileBuilder Start(string name, Func<HostileRequest, HostileAnswer> answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return new HostileBuilder(name, null, answer);
    }

    /// <summary>A TCP proxy to <paramref name="target"/> (an honest builder) that can <see cref="Freeze"/>.</summary>
    public static HostileBuilder Relay(string name, DnsEndPoint target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new HostileBuilder(name, target, _ => new HostileAnswer());
    }

    /// <summary>From now on no byte moves in either direction; connections stay open.</summary>
    public void Freeze() => _frozen = true;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _thawed.TrySetResult();
        _listener.Stop();
        foreach (var socket in _sockets.Keys)
        {
            socket.Dispose();
        }

        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        await Task.WhenAll(_tasks.Keys.Select(t => t.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)));
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            socket.NoDelay = true;
            Interlocked.Increment(ref _connections);
            Track(ServeAsync(socket));
        }
    }

    private void Track(Task task)
    {
        _tasks.TryAdd(task, 0);
        task.ContinueWith(t => _tasks.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Count(string outcome) => _outcomes.AddOrUpdate(outcome, 1, static (_, n) => n + 1);

    private async Task ServeAsync(Socket socket)
    {
        _sockets.TryAdd(socket, 0);
        Interlocked.Increment(ref _open);
        try
        {
            if (_relayTo is { } target)
            {
                await RelayAsync(socket, target);
            }
            else
            {
                var connection = new RawConnection(this, socket);
                try
                {
                    await connection.RunAsync();
                }
                finally
                {
                    foreach (var key in _openStreams.Keys.Where(k => k.Connection == connection))
                    {
                        _openStreams.TryRemove(key, out _);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            Count(_stop.IsCancellationRequested ? "disposed" : "transport error");
        }
        finally
        {
            Interlocked.Decrement(ref _open);
            _sockets.TryRemove(socket, out _);
            socket.Dispose();
        }
    }

    private async Task RelayAsync(Socket client, DnsEndPoint target)
    {
        using var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await upstream.ConnectAsync(target, _stop.Token);
        _sockets.TryAdd(upstream, 0);
        try
        {
            await Task.WhenAll(PumpAsync(client, upstream), PumpAsync(upstream, client));
            Count(_frozen ? "frozen" : "relay closed");
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Count(_frozen ? "frozen" : "relay closed");
        }
        finally
        {
            _sockets.TryRemove(upstream, out _);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            if (_frozen)
            {
                await _thawed.Task;
                return;
            }

            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (read == 0 || _frozen)
            {
                if (_frozen)
                {
                    continue;
                }

                to.Shutdown(SocketShutdown.Send);
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
        }
    }

    /// <summary>One raw HTTP/2 connection: the reading side, and answers written under one lock.</summary>
    private sealed class RawConnection(HostileBuilder owner, Socket socket)
    {
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private readonly HpackDecoder _decoder = new(maxHeaderListSize: 1 << 20);
        private readonly List<byte> _block = [];
        private bool _stopReading;
        private bool _closedByUs;
        private int _answered;

        public async Task RunAsync()
        {
            try
            {
                await ReadAsync();
            }
            catch (Exception ex) when (_closedByUs && ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                // Our own close ended the read; PlayAsync counted it.
            }
        }

        private async Task ReadAsync()
        {
            var token = owner._stop.Token;
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var preface = new byte[ClientPreface.Length];
            await stream.ReadExactlyAsync(preface, token);
            await WriteAsync(HostileFrames.ServerSettings((0x3, owner.MaxConcurrentStreams)), token);
            var reader = new Http2FrameReader(PipeReader.Create(stream)) { MaxFrameSize = 16_777_215 };
            try
            {
                while (!_stopReading && await reader.ReadFrameAsync(token))
                {
                    await OnFrameAsync(reader.Current, token);
                }
            }
            catch (Http2ConnectionException)
            {
                owner.Count("gateway sent a broken frame");
                return;
            }

            if (_stopReading)
            {
                // Never read again: the gateway's writes back up until it gives up on us.
                owner.Count("stopped reading");
                await Task.Delay(Timeout.Infinite, token);
            }

            if (!_closedByUs)
            {
                owner.Count("gateway closed");
            }
        }

        private async Task OnFrameAsync(Http2Frame frame, CancellationToken token)
        {
            var header = frame.Header;
            switch (header.Type)
            {
                case Http2FrameType.Settings when !header.HasFlag(Http2FrameFlags.Ack):
                    await WriteAsync(HostileFrames.SettingsAck(), token);
                    break;
                case Http2FrameType.Ping when !header.HasFlag(Http2FrameFlags.Ack) && owner.AnswerPings:
                    await WriteAsync(HostileFrames.Frame((byte)Http2FrameType.Ping, Http2FrameFlags.Ack, 0, frame.Payload.ToArray()), token);
                    break;
                case Http2FrameType.RstStream:
                    owner._openStreams.TryRemove((this, header.StreamId), out _);
                    break;
                case Http2FrameType.GoAway:
                    var code = (Http2ErrorCode)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.Slice(4, 4).ToArray());
                    owner.Count($"gateway GOAWAY {code}");
                    break;
                case Http2FrameType.Headers:
                    _block.Clear();
                    _block.AddRange(Http2FrameParser.ParseHeaders(frame).ToArray());
                    if (header.HasFlag(Http2FrameFlags.EndHeaders))
                    {
                        await OnRequestAsync(header.StreamId, token);
                    }

                    break;
                case Http2FrameType.Continuation:
                    _block.AddRange(frame.Payload.ToArray());
                    if (header.HasFlag(Http2FrameFlags.EndHeaders))
                    {
                        await OnRequestAsync(header.StreamId, token);
                    }

                    break;
            }
        }

        private async Task OnRequestAsync(int streamId, CancellationToken token)
        {
            var fields = new List<KeyValuePair<string, string>>();
            _decoder.Decode(_block.ToArray(), fields);
            var path = fields.FirstOrDefault(f => f.Key == ":path").Value ?? string.Empty;
            if (path.EndsWith("/Info", StringComparison.Ordinal) || path.EndsWith("/ListWorkers", StringComparison.Ordinal))
            {
                await WriteAsync(HostileFrames.GrpcResponse(streamId, []), token);
                return;
            }

            if (owner.OneAnswerPerConnection && _answered++ > 0)
            {
                // Sent before our GOAWAY reached the gateway: refused, as GOAWAY's last stream id says.
                await WriteAsync(HostileFrames.RstStreamFrame(streamId, (uint)Http2ErrorCode.RefusedStream), token);
                return;
            }

            if (owner.OneAnswerPerConnection)
            {
                // No stream after this one: the gateway opens a new connection for the next call.
                await WriteAsync(HostileFrames.GoAwayFrame(streamId, (uint)Http2ErrorCode.NoError), token);
            }

            var answer = owner.Answer(new HostileRequest(streamId, path, Interlocked.Increment(ref owner._requests) - 1));
            if (!answer.StopReading && answer.End == HostileEnd.KeepOpen)
            {
                // Only where the builder would see the gateway's RST_STREAM or close; the stream
                // may still have been ended by the answer itself (END_STREAM in its bytes).
                owner._openStreams[(this, streamId)] = (answer.Kind, System.Diagnostics.Stopwatch.GetTimestamp());
            }
            if (answer.StopReading)
            {
                _stopReading = true;
            }

            // A drip runs beside the reader, as a real peer's writes would.
            var playing = PlayAsync(answer, token);
            if (answer.Gap > TimeSpan.Zero)
            {
                owner.Track(playing);
                return;
            }

            await playing;
        }

        private async Task PlayAsync(HostileAnswer answer, CancellationToken token)
        {
            foreach (var write in answer.Writes)
            {
                if (answer.Gap > TimeSpan.Zero)
                {
                    await Task.Delay(answer.Gap, token);
                }

                await WriteAsync(write, token);
            }

            switch (answer.End)
            {
                case HostileEnd.Close:
                    _closedByUs = true;
                    owner.Count("builder closed");
                    socket.Shutdown(SocketShutdown.Both);
                    socket.Close();
                    break;
                case HostileEnd.Abort:
                    _closedByUs = true;
                    owner.Count("builder reset");
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                    break;
            }
        }

        private async Task WriteAsync(byte[] bytes, CancellationToken token)
        {
            await _writeLock.WaitAsync(token);
            try
            {
                await socket.SendAsync(bytes, SocketFlags.None, token);
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }
}
