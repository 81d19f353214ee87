using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Http2;

/// <summary>
/// Client side of one HTTP/2 connection (RFC 9113) over a caller-supplied transport.
/// It exists because .NET's HttpClient joins repeated request header fields; this client sends
/// every field separately (see <see cref="HpackEncoder"/>).
/// One reader loop parses frames and dispatches them to streams; one writer loop serialises all
/// outgoing frames, so HPACK state and stream id order follow the wire order. Both loops are owned
/// by the connection and awaited by <see cref="DisposeAsync"/>.
/// </summary>
public sealed class Http2ClientConnection : IAsyncDisposable
{
    private const int DefaultWindow = 65_535;

    private readonly Stream _transport;
    private readonly PipeReader _input;
    // Frames are serialised here by the writer loop and written to the transport in one call:
    // cheaper than a PipeWriter, whose flush machinery allocated on every write.
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly Http2FrameReader _frameReader;
    private readonly HpackEncoder _encoder;
    private readonly HpackDecoder _decoder;
    private readonly Http2ClientConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly string _peer;
    private readonly Channel<WriteItem> _writes = Channel.CreateUnbounded<WriteItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _settingsReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ArrayBufferWriter<byte> _encodeBuffer = new(1024);
    private readonly Http2FloodGuard _floodGuard;

    // Writer loop only: streams whose HEADERS are buffered but not yet written to the transport.
    private readonly List<Http2ClientStream> _headersAwaitingFlush = [];
    private readonly ArrayBufferWriter<byte> _headerBlock = new(1024);

    // Everything below up to the loops is guarded by _lock.
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Http2ClientStream> _streams = [];
    private readonly Queue<TaskCompletionSource> _slotWaiters = new();
    private long _sendWindow = DefaultWindow;
    private int _peerInitialWindow = DefaultWindow;
    private int _peerMaxConcurrentStreams = int.MaxValue;
    private int _reservedStreams;
    private int _highestStreamId;
    private int _goAwayLastStreamId = int.MaxValue;
    private bool _goAwayReceived;
    private Exception? _failure;
    private TaskCompletionSource? _pingAck;
    private ulong _pingPayload;

    // Receive-side flow control of the connection, guarded by _receiveLock: the reader loop
    // spends the window, consumers (any thread) give it back as they read.
    private readonly Lock _receiveLock = new();
    private long _receiveWindow = DefaultWindow;
    private int _receiveWindowSize = DefaultWindow;
    private int _receiveUnacknowledged;
    private int _receiveShortfall;
    private bool _receiveReleased;

    // Owned by the reader loop.
    private int _headerBlockStreamId;
    private bool _headerBlockEndStream;
    private bool _settingsSeen;
    private int _headerBlockFrames;
    private long? _pendingInitialWindow;

    // Written by the reader loop, read by the keepalive loop.
    private long _lastFrameTimestamp;

    // PING and SETTINGS acknowledgements and RST_STREAM frames queued for the writer but not yet
    // written: a peer that sends those and never reads the answers must not grow this without bound.
    private int _queuedControlFrames;

    // Owned by the writer loop.
    private int _nextStreamId = 1;

    private volatile int _peerMaxFrameSize = Http2FrameHeader.DefaultMaxFrameSize;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Task _keepAliveLoop = Task.CompletedTask;
    private int _disposed;

    private Http2ClientConnection(Stream transport, Http2ClientConnectionOptions options, ILogger logger, string peer)
    {
        _transport = transport;
        _options = options;
        _logger = logger;
        _peer = peer;
        _input = PipeReader.Create(transport, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _frameReader = new Http2FrameReader(_input) { MaxFrameSize = options.MaxFrameSize };
        _encoder = new HpackEncoder(options.UseHuffman);
        _decoder = new HpackDecoder(options.HeaderTableSize, options.MaxHeaderListSize);
        _floodGuard = new Http2FloodGuard(options.MaxControlFramesPerSecond, options.TimeProvider);
        _lastFrameTimestamp = options.TimeProvider.GetTimestamp();
    }

    /// <summary>Completes when the connection can carry no more frames (closed, failed or disposed).</summary>
    public Task Completion => _readLoop;

    /// <summary>False once the connection failed, was disposed or received GOAWAY: new streams go elsewhere.</summary>
    public bool IsAvailable
    {
        get
        {
            lock (_lock)
            {
                return _failure is null && !_goAwayReceived;
            }
        }
    }

    /// <summary>Streams open or reserved on this connection.</summary>
    public int ActiveStreamCount
    {
        get
        {
            lock (_lock)
            {
                return _reservedStreams;
            }
        }
    }

    /// <summary>The peer's SETTINGS_MAX_CONCURRENT_STREAMS.</summary>
    public int MaxConcurrentStreams
    {
        get
        {
            lock (_lock)
            {
                return _peerMaxConcurrentStreams;
            }
        }
    }

    /// <summary>True when a new stream can start now without queueing.</summary>
    public bool HasCapacity
    {
        get
        {
            lock (_lock)
            {
                return _failure is null && !_goAwayReceived && _reservedStreams < _peerMaxConcurrentStreams;
            }
        }
    }

    internal int PeerMaxFrameSize => _peerMaxFrameSize;

    internal string Peer => _peer;

    internal int StreamWindowUpdateThreshold => _options.InitialStreamWindowSize / 2;

    /// <summary>
    /// Sends the client preface and SETTINGS over <paramref name="transport"/> (already connected;
    /// for TLS, already negotiated "h2" by ALPN) and waits for the server's SETTINGS.
    /// The connection owns the transport from then on.
    /// </summary>
    public static async Task<Http2ClientConnection> ConnectAsync(
        Stream transport,
        Http2ClientConnectionOptions? options = null,
        ILogger? logger = null,
        string? peerName = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        options ??= new Http2ClientConnectionOptions();
        options.Validate();
        var connection = new Http2ClientConnection(transport, options, logger ?? NullLogger.Instance, peerName ?? "peer");
        try
        {
            await connection.StartAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens a stream by sending HEADERS. <paramref name="headers"/> must include the request
    /// pseudo-headers (<c>:method</c>, <c>:scheme</c>, <c>:authority</c>, <c>:path</c>) first; every entry
    /// becomes its own header field, in order. Waits while the peer's concurrent stream limit is reached.
    /// Returns once the HEADERS frame is queued on the wire.
    /// </summary>
    /// <exception cref="Http2ConnectionException">The connection is unusable; <see cref="Http2ConnectionException.IsRetryable"/> is true because the request was not sent.</exception>
    public async Task<Http2ClientStream> StartStreamAsync(
        IReadOnlyList<KeyValuePair<string, string>> headers,
        bool endStream,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(headers);
        await AcquireStreamSlotAsync(cancellationToken);
        return await StartReservedStreamAsync(headers, endStream);
    }

    /// <summary>
    /// Takes a stream slot now if one is free, so that a caller choosing among connections
    /// under its own lock cannot lose the slot it saw to another caller and then queue behind
    /// a stream that may never end. Pair with <see cref="StartReservedStreamAsync"/> or
    /// <see cref="ReleaseReservedStreamSlot"/>.
    /// </summary>
    internal bool TryReserveStreamSlot()
    {
        lock (_lock)
        {
            if (_failure is not null || _goAwayReceived || _reservedStreams >= _peerMaxConcurrentStreams)
            {
                return false;
            }

            _reservedStreams++;
            return true;
        }
    }

    /// <summary>Gives back a slot from <see cref="TryReserveStreamSlot"/> that will not be used.</summary>
    internal void ReleaseReservedStreamSlot() => ReleaseStreamSlot();

    /// <summary>Opens a stream on a slot already taken by <see cref="TryReserveStreamSlot"/> or <see cref="AcquireStreamSlotAsync"/>.</summary>
    internal async Task<Http2ClientStream> StartReservedStreamAsync(
        IReadOnlyList<KeyValuePair<string, string>> headers,
        bool endStream)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var stream = new Http2ClientStream(this, headers, endStream, _options.InitialStreamWindowSize);
        var sent = stream.Operation.Start();
        if (!_writes.Writer.TryWrite(WriteItem.ForHeaders(stream)))
        {
            ReleaseStreamSlot();
            throw NotAcceptingStreams();
        }

        // The writer loop completes this exactly once: when HEADERS are written, or with an error.
        await sent;
        return stream;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Fail(new Http2ConnectionException(Http2ErrorCode.NoError, "The connection was disposed.") { IsRetryable = true }, Http2ErrorCode.NoError);
        try
        {
            // Let the writer flush the GOAWAY, but never hang on a peer that stopped reading.
            await _writeLoop.WaitAsync(TimeSpan.FromSeconds(2), _options.TimeProvider);
        }
        catch (TimeoutException)
        {
        }

        await _shutdown.CancelAsync();
        await _transport.DisposeAsync();
        await Task.WhenAll(_readLoop, _writeLoop, _keepAliveLoop);
        // Also when the handshake failed before the reader loop started.
        ReleaseReceiveWindow();
        _shutdown.Dispose();
        Http2Log.ConnectionClosed(_logger, _peer);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        _output.Write(Http2FrameWriter.ClientPreface);
        Span<(Http2SettingId, uint)> settings =
        [
            (Http2SettingId.EnablePush, 0),
            (Http2SettingId.InitialWindowSize, (uint)_options.InitialStreamWindowSize),
            (Http2SettingId.MaxFrameSize, (uint)_options.MaxFrameSize),
            (Http2SettingId.HeaderTableSize, (uint)_options.HeaderTableSize),
            (Http2SettingId.MaxHeaderListSize, (uint)_options.MaxHeaderListSize),
        ];
        Http2FrameWriter.WriteSettings(_output, settings);
        if (ReserveReceiveWindow() is > 0 and var raise)
        {
            Http2FrameWriter.WriteWindowUpdate(_output, 0, raise);
        }

        await FlushOutputAsync(cancellationToken);

        _readLoop = ReadLoopAsync();
        _writeLoop = WriteLoopAsync();
        if (_options.KeepAlivePingInterval != Timeout.InfiniteTimeSpan)
        {
            _keepAliveLoop = KeepAliveLoopAsync();
        }

        await _settingsReceived.Task.WaitAsync(_options.HandshakeTimeout, _options.TimeProvider, cancellationToken);
        Http2Log.Connected(_logger, _peer, MaxConcurrentStreams, _peerInitialWindow);
    }

    // ---- stream slots (SETTINGS_MAX_CONCURRENT_STREAMS) ----

    private async ValueTask AcquireStreamSlotAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource waiter;
            lock (_lock)
            {
                if (_failure is not null || _goAwayReceived)
                {
                    throw NotAcceptingStreams();
                }

                if (_reservedStreams < _peerMaxConcurrentStreams)
                {
                    _reservedStreams++;
                    return;
                }

                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _slotWaiters.Enqueue(waiter);
            }

            await waiter.Task.WaitAsync(cancellationToken);
        }
    }

    private void ReleaseStreamSlot()
    {
        lock (_lock)
        {
            _reservedStreams--;
            WakeSlotWaitersLocked();
        }
    }

    private void WakeSlotWaitersLocked()
    {
        // Waiters re-check under the lock, so waking all is correct and keeps this simple.
        while (_slotWaiters.TryDequeue(out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    private Http2ConnectionException NotAcceptingStreams() =>
        Volatile.Read(ref _failure) is { } failure
            ? NotAcceptingStreamsLocked(failure)
            : new Http2ConnectionException(Http2ErrorCode.RefusedStream, "The connection accepts no new streams: it received GOAWAY.") { IsRetryable = true };

    internal void OnStreamClosed(Http2ClientStream stream)
    {
        lock (_lock)
        {
            if (stream.Id != 0 && _streams.Remove(stream.Id))
            {
                _reservedStreams--;
                WakeSlotWaitersLocked();
            }
        }

        CloseIfDrained();
    }

    /// <summary>
    /// After GOAWAY the connection is useless once its last stream ends; some servers (Kestrel)
    /// wait for the client to hang up, so we close instead of idling until a timeout.
    /// </summary>
    private void CloseIfDrained()
    {
        lock (_lock)
        {
            if (!_goAwayReceived || _failure is not null || _reservedStreams > 0)
            {
                return;
            }
        }

        Fail(new Http2ConnectionException(Http2ErrorCode.NoError, "The connection closed after GOAWAY.") { IsRetryable = true }, Http2ErrorCode.NoError);
    }

    // ---- flow control, send side ----

    /// <summary>
    /// Takes up to <paramref name="wanted"/> octets of send window from both the stream and the
    /// connection, waiting while either is exhausted: this is where a slow peer slows our sender.
    /// Returns 0 when the peer finished the stream without error and no longer wants data.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<int> ReserveSendWindowAsync(Http2ClientStream stream, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (stream.SendAbandoned(out var error))
                {
                    if (error is not null)
                    {
                        throw error;
                    }

                    return 0;
                }

                var available = Math.Min(stream.SendWindow, _sendWindow);
                if (available > 0)
                {
                    var granted = (int)Math.Min(available, wanted);
                    stream.SendWindow -= granted;
                    _sendWindow -= granted;
                    return granted;
                }

                stream.WindowWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = stream.WindowWaiter.Task;
                stream.WindowWaitCount++;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    private static void WakeWindowWaiterLocked(Http2ClientStream stream)
    {
        if (stream.WindowWaiter is { } waiter)
        {
            stream.WindowWaiter = null;
            waiter.TrySetResult();
        }
    }

    internal void WakeWindowWaiter(Http2ClientStream stream)
    {
        lock (_lock)
        {
            WakeWindowWaiterLocked(stream);
        }
    }

    // ---- flow control, receive side ----

    /// <summary>
    /// Takes the connection window beyond the protocol's 65,535 from the shared budget (all of it
    /// without one); returns the WINDOW_UPDATE increment to announce it.
    /// </summary>
    private int ReserveReceiveWindow()
    {
        var wanted = Math.Max(0, _options.InitialConnectionWindowSize - DefaultWindow);
        var granted = _options.ReceiveBudget?.Reserve(wanted) ?? wanted;
        lock (_receiveLock)
        {
            _receiveWindow += granted;
            _receiveWindowSize += granted;
            _receiveShortfall = wanted - granted;
        }

        return granted;
    }

    /// <summary>
    /// <paramref name="count"/> received octets were read by their consumer or dropped, of which
    /// <paramref name="buffered"/> had been buffered: the peer may send that much again.
    /// </summary>
    internal void OnReceiveConsumed(int count, int buffered)
    {
        if (buffered != 0)
        {
            _options.ReceiveBudget?.OnBuffered(-buffered);
        }

        if (count <= 0)
        {
            return;
        }

        int increment;
        lock (_receiveLock)
        {
            if (_receiveReleased)
            {
                return;
            }

            _receiveUnacknowledged += count;
            // Batched while the peer has plenty of window; at once while streams nobody reads
            // hold much of it, so the streams still reading are not starved.
            if (_receiveUnacknowledged < _receiveWindowSize / 2 && _receiveWindow >= _receiveWindowSize / 2)
            {
                return;
            }

            increment = _receiveUnacknowledged;
            _receiveUnacknowledged = 0;
            if (_receiveShortfall > 0 && _options.ReceiveBudget?.Reserve(_receiveShortfall) is > 0 and var more)
            {
                _receiveShortfall -= more;
                _receiveWindowSize += more;
                increment += more;
            }

            _receiveWindow += increment;
        }

        EnqueueWindowUpdate(0, increment);
    }

    internal void OnReceiveBuffered(int count) => _options.ReceiveBudget?.OnBuffered(count);

    /// <summary>Once no more DATA can arrive: the window goes back to the shared budget.</summary>
    private void ReleaseReceiveWindow()
    {
        int reserved;
        lock (_receiveLock)
        {
            if (_receiveReleased)
            {
                return;
            }

            _receiveReleased = true;
            reserved = _receiveWindowSize - DefaultWindow;
        }

        _options.ReceiveBudget?.Release(reserved);
    }

    // ---- queueing frames for the writer ----

    internal bool EnqueueData(Http2ClientStream stream, ReadOnlySequence<byte> data, bool endStream) =>
        _writes.Writer.TryWrite(WriteItem.ForData(stream, data, endStream));

    internal void EnqueueReset(int streamId, Http2ErrorCode errorCode)
    {
        Interlocked.Increment(ref _queuedControlFrames);
        _writes.Writer.TryWrite(WriteItem.Control(ControlKind.RstStream, streamId, (ulong)errorCode));
    }

    /// <summary>Queues an answer the peer asked for; fails the connection when the peer does not read them.</summary>
    private void EnqueueReply(ControlKind kind, int streamId, ulong value)
    {
        if (Interlocked.Increment(ref _queuedControlFrames) > _options.MaxQueuedControlFrames)
        {
            throw new Http2ConnectionException(
                Http2ErrorCode.EnhanceYourCalm,
                $"Control frame flood: the peer does not read, more than {_options.MaxQueuedControlFrames} PING, SETTINGS and RST_STREAM answers wait unsent (limit --upstream-max-queued-control-frames).");
        }

        _writes.Writer.TryWrite(WriteItem.Control(kind, streamId, value));
    }

    internal void EnqueueWindowUpdate(int streamId, int increment) =>
        _writes.Writer.TryWrite(WriteItem.Control(ControlKind.WindowUpdate, streamId, (ulong)increment));

    /// <summary>Sends a PING and waits for its ACK; exposed for keepalive and tests.</summary>
    internal async Task PingAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource ack;
        lock (_lock)
        {
            if (_failure is not null)
            {
                throw new Http2ConnectionException("The connection is closed.", _failure);
            }

            if (_pingAck is null)
            {
                _pingAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _pingPayload++;
                _writes.Writer.TryWrite(WriteItem.Control(ControlKind.Ping, 0, _pingPayload));
            }

            ack = _pingAck;
        }

        await ack.Task.WaitAsync(cancellationToken);
    }

    // ---- failure ----

    /// <summary>
    /// Marks the connection failed. With a GOAWAY code the writer drains what is queued, sends
    /// GOAWAY and stops; without one it stops at once (the transport is broken). Streams are
    /// failed by the reader loop when it ends, so stream pipes only ever see one writer.
    /// </summary>
    private void Fail(Exception error, Http2ErrorCode? goAwayCode)
    {
        lock (_lock)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = error;
            foreach (var waiter in _slotWaiters)
            {
                waiter.TrySetException(NotAcceptingStreamsLocked(error));
            }

            _slotWaiters.Clear();
            _pingAck?.TrySetException(error);
            _pingAck = null;
        }

        _settingsReceived.TrySetException(error);
        if (goAwayCode is { } code)
        {
            _writes.Writer.TryWrite(WriteItem.Control(ControlKind.GoAway, 0, (ulong)code));
            _writes.Writer.TryComplete();
        }
        else
        {
            _writes.Writer.TryComplete();
            _shutdown.Cancel();
        }
    }

    private static Http2ConnectionException NotAcceptingStreamsLocked(Exception error) =>
        new(Http2ErrorCode.RefusedStream, "The connection accepts no new streams: " + error.Message, error) { IsRetryable = true };

    private void FailAllStreams()
    {
        Http2ClientStream[] streams;
        Exception error;
        lock (_lock)
        {
            error = _failure ?? new Http2ConnectionException(Http2ErrorCode.NoError, "The connection closed.");
            streams = [.. _streams.Values];
            _streams.Clear();
            _reservedStreams -= streams.Length;
            foreach (var stream in streams)
            {
                WakeWindowWaiterLocked(stream);
            }
        }

        foreach (var stream in streams)
        {
            stream.OnFailed(error is Http2ConnectionException ? error : new Http2ConnectionException("The connection failed.", error));
        }
    }

    // ---- writer loop ----

    private async Task WriteLoopAsync()
    {
        var reader = _writes.Reader;
        try
        {
            // No cancellation tokens here: a registration per wait or flush would be the hot
            // path's main allocation. Fail() completes the channel, and disposing the transport
            // ends a flush that a peer never drains.
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var item))
                {
                    WriteFrame(item);
                    if (_output.WrittenCount >= 256 * 1024)
                    {
                        await FlushAndReleaseHeadersAsync();
                    }
                }

                // Flush once the queue is empty so bursts of small frames share a write.
                await FlushAndReleaseHeadersAsync();
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Fail(new Http2ConnectionException("Writing to the connection failed.", ex), goAwayCode: null);
        }
        finally
        {
            Fail(new Http2ConnectionException(Http2ErrorCode.NoError, "The connection closed.") { IsRetryable = true }, goAwayCode: null);
            Exception error;
            lock (_lock)
            {
                error = _failure!;
            }

            // The writer is done (after a GOAWAY or a failure): stop the reader too, whatever ended us.
            await _shutdown.CancelAsync();

            // HEADERS in a write that failed got no response and most likely never arrived whole
            // (a server acts only on a complete block). They fail as retryable so the pool tries
            // another connection: the bet gRPC's transparent retry also makes for calls the
            // transport never delivered.
            foreach (var stream in _headersAwaitingFlush)
            {
                stream.Operation.SetException(NotAcceptingStreamsLocked(error));
            }

            _headersAwaitingFlush.Clear();

            // Anything still queued never reached the wire.
            while (reader.TryRead(out var item))
            {
                if (item.Stream is { } stream)
                {
                    if (item.Kind == ControlKind.Headers)
                    {
                        ReleaseStreamSlot();
                        stream.Operation.SetException(NotAcceptingStreamsLocked(error));
                    }
                    else
                    {
                        stream.Operation.SetException(new Http2ConnectionException("The connection failed before the data was sent.", error));
                    }
                }
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAndReleaseHeadersAsync()
    {
        await FlushOutputAsync(CancellationToken.None);
        foreach (var stream in _headersAwaitingFlush)
        {
            stream.Operation.SetResult();
        }

        _headersAwaitingFlush.Clear();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        if (_output.WrittenCount == 0)
        {
            return;
        }

        await _transport.WriteAsync(_output.WrittenMemory, cancellationToken);
        await _transport.FlushAsync(cancellationToken);
        _output.ResetWrittenCount();
    }

    private void WriteFrame(in WriteItem item)
    {
        switch (item.Kind)
        {
            case ControlKind.Headers:
                WriteHeaders(item.Stream!);
                _floodGuard.OnFramesSent(1);
                break;
            case ControlKind.Data:
                var stream = item.Stream!;
                _floodGuard.OnFramesSent((int)Math.Max(1, (item.Data.Length + _peerMaxFrameSize - 1) / _peerMaxFrameSize));
                if (!stream.SkipsWrites)
                {
                    WriteDataFrames(stream.Id, item.Data, item.EndStream);
                }

                if (item.EndStream)
                {
                    stream.OnRequestEnded();
                }

                stream.Operation.SetResultInline();
                break;
            case ControlKind.RstStream:
                Interlocked.Decrement(ref _queuedControlFrames);
                Http2FrameWriter.WriteRstStream(_output, item.StreamId, (Http2ErrorCode)item.Value);
                break;
            case ControlKind.WindowUpdate:
                Http2FrameWriter.WriteWindowUpdate(_output, item.StreamId, (int)item.Value);
                break;
            case ControlKind.SettingsAck:
                Interlocked.Decrement(ref _queuedControlFrames);
                Http2FrameWriter.WriteSettingsAck(_output);
                break;
            case ControlKind.Ping:
                Http2FrameWriter.WritePing(_output, item.Value, ack: false);
                break;
            case ControlKind.PingAck:
                Interlocked.Decrement(ref _queuedControlFrames);
                Http2FrameWriter.WritePing(_output, item.Value, ack: true);
                break;
            case ControlKind.GoAway:
                // We never accept server-initiated streams, so the last processed id is 0.
                Http2FrameWriter.WriteGoAway(_output, 0, (Http2ErrorCode)item.Value);
                break;
        }
    }

    private void WriteDataFrames(int streamId, ReadOnlySequence<byte> data, bool endStream)
    {
        // An item carries up to the window its stream reserved; frames are cut here because
        // only the writer knows the peer's current SETTINGS_MAX_FRAME_SIZE.
        var maxFrame = _peerMaxFrameSize;
        do
        {
            var length = (int)Math.Min(data.Length, maxFrame);
            var last = length == data.Length;
            Http2FrameWriter.WriteHeader(_output, length, Http2FrameType.Data, last && endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None, streamId);
            foreach (var segment in data.Slice(0, length))
            {
                _output.Write(segment.Span);
            }

            data = data.Slice(length);
        }
        while (!data.IsEmpty);
    }

    private void WriteHeaders(Http2ClientStream stream)
    {
        int id;
        lock (_lock)
        {
            if (_nextStreamId < 0)
            {
                // Stream ids are spent (2^30 streams): drain like after GOAWAY so the pool opens a fresh connection.
                _goAwayReceived = true;
            }

            if (_failure is not null || _goAwayReceived)
            {
                _reservedStreams--;
                WakeSlotWaitersLocked();
                stream.Operation.SetException(_failure is null
                    ? new Http2ConnectionException(Http2ErrorCode.RefusedStream, "The connection received GOAWAY.") { IsRetryable = true }
                    : NotAcceptingStreamsLocked(_failure));
                return;
            }

            // Ids are assigned here, in wire order, because the peer rejects a HEADERS frame
            // whose id is lower than one it has already seen.
            id = _nextStreamId;
            _nextStreamId += 2;
            _highestStreamId = id;
            stream.Id = id;
            stream.SendWindow = _peerInitialWindow;
            _streams[id] = stream;
        }

        _encodeBuffer.ResetWrittenCount();
        _encoder.Encode(stream.RequestHeaders, _encodeBuffer);
        Http2FrameWriter.WriteHeaders(_output, id, _encodeBuffer.WrittenSpan, stream.EndStreamWithHeaders, _peerMaxFrameSize);
        if (stream.EndStreamWithHeaders)
        {
            stream.OnRequestEnded();
        }

        // StartStreamAsync returns once the HEADERS are on the transport, not merely buffered,
        // so a connection that turns out to be dead is noticed while the call can still be retried.
        _headersAwaitingFlush.Add(stream);
    }

    // ---- reader loop ----

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await _frameReader.ReadFrameAsync(_shutdown.Token))
            {
                Volatile.Write(ref _lastFrameTimestamp, _options.TimeProvider.GetTimestamp());
                await ProcessFrameAsync(_frameReader.Current);
            }

            Fail(new Http2ConnectionException(Http2ErrorCode.NoError, "The peer closed the connection."), goAwayCode: null);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        catch (Http2ConnectionException ex) when (ex.InnerException is null && ex.ErrorCode != Http2ErrorCode.NoError)
        {
            // Our side detected a protocol violation: tell the peer why before closing.
            Http2Log.ConnectionFailed(_logger, _peer, ex.ErrorCode, ex);
            Fail(ex, ex.ErrorCode);
        }
        catch (HpackException ex)
        {
            var error = new Http2ConnectionException(Http2ErrorCode.CompressionError, ex.Message, ex);
            Http2Log.ConnectionFailed(_logger, _peer, error.ErrorCode, ex);
            Fail(error, Http2ErrorCode.CompressionError);
        }
        catch (Exception ex)
        {
            if (_disposed == 0)
            {
                Http2Log.ConnectionFailed(_logger, _peer, Http2ErrorCode.InternalError, ex);
            }

            Fail(new Http2ConnectionException("Reading from the connection failed.", ex), goAwayCode: null);
        }
        finally
        {
            FailAllStreams();
            ReleaseReceiveWindow();
            await _input.CompleteAsync();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ProcessFrameAsync(Http2Frame frame)
    {
        if (_headerBlockStreamId != 0 && frame.Type != Http2FrameType.Continuation)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"Expected CONTINUATION, got {frame.Type}.");
        }

        if (!_settingsSeen && frame.Type != Http2FrameType.Settings)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "The server preface must start with SETTINGS.");
        }

        try
        {
            switch (frame.Type)
            {
                case Http2FrameType.Data:
                    if (frame.Header.Length == 0 && !frame.Header.HasFlag(Http2FrameFlags.EndStream))
                    {
                        _floodGuard.Spend("empty DATA");
                    }

                    await ProcessDataAsync(frame);
                    break;
                case Http2FrameType.Headers:
                    if (frame.Header.Length == 0)
                    {
                        _floodGuard.Spend("zero-length HEADERS");
                    }

                    _headerBlockFrames = 1;
                    ProcessHeaders(frame);
                    break;
                case Http2FrameType.Continuation:
                    if (++_headerBlockFrames > Http2FloodGuard.MaxHeaderBlockFrames)
                    {
                        throw Http2FloodGuard.HeaderBlockTooLong();
                    }

                    if (frame.Header.Length == 0)
                    {
                        _floodGuard.Spend("empty CONTINUATION");
                    }

                    ProcessContinuation(frame);
                    break;
                case Http2FrameType.Priority:
                    _floodGuard.Spend("PRIORITY");
                    Http2FrameParser.ParsePriority(frame);
                    break;
                case Http2FrameType.RstStream:
                    _floodGuard.Spend("RST_STREAM");
                    ProcessRstStream(frame);
                    break;
                case Http2FrameType.Settings:
                    _floodGuard.Spend(frame.Header.HasFlag(Http2FrameFlags.Ack) ? "SETTINGS ACK" : "SETTINGS");
                    ProcessSettings(frame);
                    break;
                case Http2FrameType.PushPromise:
                    // We sent SETTINGS_ENABLE_PUSH = 0 (RFC 9113 8.4).
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "PUSH_PROMISE received although push is disabled.");
                case Http2FrameType.Ping:
                    _floodGuard.Spend(frame.Header.HasFlag(Http2FrameFlags.Ack) ? "PING ACK" : "PING");
                    ProcessPing(frame);
                    break;
                case Http2FrameType.GoAway:
                    _floodGuard.Spend("GOAWAY");
                    ProcessGoAway(frame);
                    break;
                case Http2FrameType.WindowUpdate:
                    ProcessWindowUpdate(frame);
                    break;
                default:
                    // Unknown frame types MUST be ignored (RFC 9113 4.1), but not in any number.
                    _floodGuard.Spend("unknown frame type");
                    break;
            }
        }
        catch (Http2StreamException ex)
        {
            ResetStreamFromReader(frame.StreamId, ex);
        }
    }

    private void ResetStreamFromReader(int streamId, Http2StreamException error)
    {
        Http2Log.StreamError(_logger, _peer, streamId, error.ErrorCode, error);
        EnqueueReply(ControlKind.RstStream, streamId, (ulong)error.ErrorCode);
        if (FindStream(streamId) is { } stream)
        {
            stream.OnFailed(error);
        }
    }

    private Http2ClientStream? FindStream(int streamId)
    {
        lock (_lock)
        {
            return _streams.GetValueOrDefault(streamId);
        }
    }

    /// <summary>Frames for a stream we never opened are a connection error; for one we closed they are stale and ignored.</summary>
    private Http2ClientStream? LookupStream(int streamId)
    {
        lock (_lock)
        {
            if (_streams.TryGetValue(streamId, out var stream))
            {
                return stream;
            }

            if ((streamId & 1) == 0 || streamId > _highestStreamId)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"Frame for stream {streamId}, which this client never opened.");
            }

            return null;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ProcessDataAsync(Http2Frame frame)
    {
        var data = Http2FrameParser.ParseData(frame);
        var length = frame.Header.Length;
        lock (_receiveLock)
        {
            _receiveWindow -= length;
            if (_receiveWindow < 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "DATA beyond the connection receive window.");
            }
        }

        // The connection window comes back only as consumers read, so what the peer may send
        // is what we can hold; whatever no consumer will read (padding, frames of streams that
        // are gone or failed) is given back at once.
        var kept = 0;
        try
        {
            if (LookupStream(frame.StreamId) is { } stream)
            {
                kept = await stream.OnDataAsync(data, length, frame.Header.HasFlag(Http2FrameFlags.EndStream));
            }
        }
        finally
        {
            OnReceiveConsumed(length - kept, buffered: 0);
        }
    }

    private void ProcessHeaders(Http2Frame frame)
    {
        var fragment = Http2FrameParser.ParseHeaders(frame);
        _headerBlock.ResetWrittenCount();
        AppendFragment(fragment);
        _headerBlockEndStream = frame.Header.HasFlag(Http2FrameFlags.EndStream);
        if (frame.Header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            CompleteHeaderBlock(frame.StreamId);
        }
        else
        {
            _headerBlockStreamId = frame.StreamId;
        }
    }

    private void ProcessContinuation(Http2Frame frame)
    {
        var fragment = Http2FrameParser.ParseContinuation(frame);
        if (_headerBlockStreamId == 0 || frame.StreamId != _headerBlockStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "CONTINUATION without a preceding HEADERS on the same stream.");
        }

        AppendFragment(fragment);
        if (frame.Header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            _headerBlockStreamId = 0;
            CompleteHeaderBlock(frame.StreamId);
        }
    }

    private void AppendFragment(ReadOnlySequence<byte> fragment)
    {
        // Bound the compressed block too: an endless CONTINUATION chain is a known DoS.
        if (_headerBlock.WrittenCount + fragment.Length > _decoder.MaxHeaderListSize * 2L)
        {
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm, "Header block too large.");
        }

        foreach (var segment in fragment)
        {
            _headerBlock.Write(segment.Span);
        }
    }

    private void CompleteHeaderBlock(int streamId)
    {
        // Decode before looking at the stream: the HPACK table must see every block.
        var fields = new List<KeyValuePair<string, string>>();
        var withinLimit = _decoder.Decode(_headerBlock.WrittenSpan, fields);
        var stream = LookupStream(streamId);
        if (stream is null)
        {
            return;
        }

        if (!withinLimit)
        {
            throw new Http2StreamException(Http2ErrorCode.ProtocolError, $"Response header list exceeds {_decoder.MaxHeaderListSize} octets.");
        }

        stream.OnHeaders(fields, _headerBlockEndStream);
    }

    private void ProcessRstStream(Http2Frame frame)
    {
        var errorCode = Http2FrameParser.ParseRstStream(frame);
        var stream = LookupStream(frame.StreamId);
        if (stream is null)
        {
            return;
        }

        Http2Log.StreamResetByPeer(_logger, _peer, frame.StreamId, errorCode);
        WakeWindowWaiter(stream);
        stream.OnPeerReset(errorCode);
    }

    private void ProcessSettings(Http2Frame frame)
    {
        if (!Http2FrameParser.ParseSettings(frame, this, static (connection, id, value) => connection.ApplySetting(id, value)))
        {
            if (!_settingsSeen)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "The server preface must be a SETTINGS frame without ACK.");
            }

            return;
        }

        // Applied once per frame: a frame may repeat the setting thousands of times, and each
        // application walks every open stream.
        if (_pendingInitialWindow is { } initialWindow)
        {
            _pendingInitialWindow = null;
            ApplyInitialWindowSize((int)initialWindow);
        }

        EnqueueReply(ControlKind.SettingsAck, 0, 0);
        _settingsSeen = true;
        _settingsReceived.TrySetResult();
    }

    private void ApplySetting(Http2SettingId id, uint value)
    {
        switch (id)
        {
            case Http2SettingId.MaxConcurrentStreams:
                lock (_lock)
                {
                    _peerMaxConcurrentStreams = (int)Math.Min(value, int.MaxValue);
                    WakeSlotWaitersLocked();
                }

                break;
            case Http2SettingId.InitialWindowSize:
                _pendingInitialWindow = value;
                break;
            case Http2SettingId.MaxFrameSize:
                _peerMaxFrameSize = (int)value;
                break;
            default:
                // HEADER_TABLE_SIZE needs nothing: our encoder never uses the dynamic table.
                // MAX_HEADER_LIST_SIZE is advisory; the peer answers oversized requests itself.
                break;
        }
    }

    private void ApplyInitialWindowSize(int value)
    {
        lock (_lock)
        {
            // Applies retroactively to every open stream and may make windows negative (RFC 9113 6.9.2).
            var delta = value - _peerInitialWindow;
            _peerInitialWindow = value;
            foreach (var stream in _streams.Values)
            {
                stream.SendWindow += delta;
                if (stream.SendWindow > Http2FrameParser.MaxWindowSize)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE overflowed a stream window.");
                }

                WakeWindowWaiterLocked(stream);
            }
        }
    }

    private void ProcessPing(Http2Frame frame)
    {
        var payload = Http2FrameParser.ParsePing(frame);
        if (!frame.Header.HasFlag(Http2FrameFlags.Ack))
        {
            EnqueueReply(ControlKind.PingAck, 0, payload);
            return;
        }

        lock (_lock)
        {
            if (_pingAck is not null && payload == _pingPayload)
            {
                _pingAck.TrySetResult();
                _pingAck = null;
            }
        }
    }

    private void ProcessGoAway(Http2Frame frame)
    {
        var (lastStreamId, errorCode) = Http2FrameParser.ParseGoAway(frame);
        Http2Log.GoAwayReceived(_logger, _peer, lastStreamId, errorCode);
        List<Http2ClientStream> refused = [];
        lock (_lock)
        {
            _goAwayReceived = true;
            _goAwayLastStreamId = Math.Min(_goAwayLastStreamId, lastStreamId);
            foreach (var stream in _streams.Values)
            {
                if (stream.Id > _goAwayLastStreamId)
                {
                    refused.Add(stream);
                    WakeWindowWaiterLocked(stream);
                }
            }

            var error = new Http2ConnectionException(Http2ErrorCode.RefusedStream, "The connection received GOAWAY.") { IsRetryable = true };
            foreach (var waiter in _slotWaiters)
            {
                waiter.TrySetException(error);
            }

            _slotWaiters.Clear();
        }

        // Streams above last-stream-id were never processed by the peer, so they may be retried.
        foreach (var stream in refused)
        {
            stream.OnFailed(new Http2StreamException(Http2ErrorCode.RefusedStream, $"Stream {stream.Id} was not processed before GOAWAY ({errorCode}).") { IsRetryable = true });
        }

        CloseIfDrained();
    }

    private void ProcessWindowUpdate(Http2Frame frame)
    {
        var increment = Http2FrameParser.ParseWindowUpdate(frame);
        lock (_lock)
        {
            if (frame.StreamId == 0)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2FrameParser.MaxWindowSize)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "Connection send window above 2^31-1.");
                }

                foreach (var stream in _streams.Values)
                {
                    WakeWindowWaiterLocked(stream);
                }

                return;
            }
        }

        var target = LookupStream(frame.StreamId);
        if (target is null)
        {
            return;
        }

        lock (_lock)
        {
            target.SendWindow += increment;
            if (target.SendWindow > Http2FrameParser.MaxWindowSize)
            {
                throw new Http2StreamException(Http2ErrorCode.FlowControlError, "Stream send window above 2^31-1.");
            }

            WakeWindowWaiterLocked(target);
        }
    }

    // ---- keepalive ----

    // grpc-go's client rules: PING only while streams are open (servers count PINGs on idle
    // connections as abuse) and only after an interval without any frame from the peer (a busy
    // connection proves itself). A peer that stops answering is found within interval + timeout.
    private async Task KeepAliveLoopAsync()
    {
        var time = _options.TimeProvider;
        var interval = _options.KeepAlivePingInterval;
        try
        {
            while (true)
            {
                var silent = time.GetElapsedTime(Volatile.Read(ref _lastFrameTimestamp));
                if (silent < interval || ActiveStreamCount == 0)
                {
                    await Task.Delay(silent < interval ? interval - silent : interval, time, _shutdown.Token);
                    continue;
                }

                try
                {
                    await PingAsync(_shutdown.Token).WaitAsync(_options.KeepAlivePingTimeout, time);
                }
                catch (TimeoutException)
                {
                    Http2Log.KeepAliveTimeout(_logger, _peer, _options.KeepAlivePingTimeout);
                    Fail(
                        new Http2ConnectionException(
                            Http2ErrorCode.NoError,
                            string.Create(CultureInfo.InvariantCulture, $"The peer did not answer a keep-alive PING within {_options.KeepAlivePingTimeout.TotalSeconds:0.###} s (limit --upstream-keepalive-timeout): it stopped or the network to it is gone.")),
                        goAwayCode: null);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Http2ConnectionException)
        {
            // The connection failed; the reader loop reports it.
        }
    }

    private enum ControlKind : byte
    {
        Headers,
        Data,
        RstStream,
        WindowUpdate,
        SettingsAck,
        Ping,
        PingAck,
        GoAway,
    }

    private readonly record struct WriteItem(ControlKind Kind, Http2ClientStream? Stream, int StreamId, ulong Value, ReadOnlySequence<byte> Data, bool EndStream)
    {
        public static WriteItem ForHeaders(Http2ClientStream stream) => new(ControlKind.Headers, stream, 0, 0, default, false);

        public static WriteItem ForData(Http2ClientStream stream, ReadOnlySequence<byte> data, bool endStream) => new(ControlKind.Data, stream, 0, 0, data, endStream);

        public static WriteItem Control(ControlKind kind, int streamId, ulong value) => new(kind, null, streamId, value, default, false);
    }
}
