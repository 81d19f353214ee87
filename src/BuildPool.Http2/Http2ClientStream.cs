using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace BuildPool.Http2;

/// <summary>
/// One request/response exchange on an <see cref="Http2ClientConnection"/>. Request and response
/// flow independently (full duplex), so a bidirectional gRPC stream keeps both open.
/// One write operation and one read operation may be in flight at a time; cancelling any
/// operation resets the stream with CANCEL because its state is then unknown to the caller.
/// </summary>
public sealed class Http2ClientStream : IAsyncDisposable
{
    private static readonly IReadOnlyList<KeyValuePair<string, string>> NoTrailers = [];

    // Bounds how long one stream holds the writer loop, so other streams' frames interleave.
    private const int MaxWriteChunk = 256 * 1024;

    private readonly Http2ClientConnection _connection;
    private readonly Lock _sync = new();

    // No pause threshold: the receive window, not the pipe, bounds what the peer may send.
    private readonly Pipe _receive = new(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 16 * 1024, useSynchronizationContext: false));
    private readonly TaskCompletionSource<IReadOnlyList<KeyValuePair<string, string>>> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<IReadOnlyList<KeyValuePair<string, string>>> _trailers = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _sync.
    private long _receiveWindow;
    private int _unacknowledged;
    private int _buffered;
    private bool _discarded;
    private bool _requestEnded;
    private bool _responseEnded;
    private bool _localReset;
    private bool _peerStoppedReading;
    private Exception? _error;

    // Reader loop only.
    private bool _headersReceived;
    private bool _pipeCompleted;

    private int _operationActive;

    internal Http2ClientStream(Http2ClientConnection connection, IReadOnlyList<KeyValuePair<string, string>> requestHeaders, bool endStream, int receiveWindow)
    {
        _connection = connection;
        RequestHeaders = requestHeaders;
        EndStreamWithHeaders = endStream;
        _receiveWindow = receiveWindow;
    }

    /// <summary>The stream identifier, assigned when HEADERS went out.</summary>
    public int Id { get; internal set; }

    /// <summary>The response <c>:status</c>; 0 until response headers arrived.</summary>
    public int StatusCode { get; private set; }

    /// <summary>
    /// True when the response ended with its HEADERS frame (gRPC "trailers-only": the status is
    /// in the headers). A proxy must then reply the same way, or gRPC clients lose the status.
    /// </summary>
    public bool IsTrailersOnly { get; private set; }

    internal IReadOnlyList<KeyValuePair<string, string>> RequestHeaders { get; }

    internal bool EndStreamWithHeaders { get; }

    internal ReusableCompletion Operation { get; } = new();

    // Guarded by the connection's lock.
    internal long SendWindow { get; set; }

    internal TaskCompletionSource? WindowWaiter { get; set; }

    /// <summary>How often a write had to wait for the peer's flow-control window (test evidence of backpressure).</summary>
    internal int WindowWaitCount { get; set; }

    /// <summary>Most response bytes ever buffered unread (test evidence that the receive window bounds the peer).</summary>
    internal long MaxBufferedBytes { get; private set; }

    internal bool SkipsWrites
    {
        get
        {
            lock (_sync)
            {
                return _localReset || _error is not null || _peerStoppedReading;
            }
        }
    }

    /// <summary>Response headers (including <c>:status</c>), in wire order, repeated names kept apart.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> ReadResponseHeadersAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _headers.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Reset(Http2ErrorCode.Cancel);
            throw;
        }
    }

    /// <summary>Reads response DATA; returns 0 at the end of the response body.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfLocallyReset();
        ReadResult result;
        try
        {
            result = await _receive.Reader.ReadAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Reset(Http2ErrorCode.Cancel);
            throw;
        }

        if (result.IsCanceled)
        {
            ThrowIfLocallyReset();
        }

        var data = result.Buffer;
        if (data.IsEmpty)
        {
            _receive.Reader.AdvanceTo(data.End);
            return 0;
        }

        var count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer.Span);
        _receive.Reader.AdvanceTo(data.GetPosition(count));
        OnConsumed(count);
        return count;
    }

    /// <summary>
    /// Copies response bytes that are already buffered, without waiting; 0 when none are. Lets a
    /// proxy batch several frames into one downstream flush.
    /// </summary>
    public int ReadBuffered(Span<byte> buffer)
    {
        if (buffer.IsEmpty || !_receive.Reader.TryRead(out var result))
        {
            return 0;
        }

        var data = result.Buffer;
        var count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer);
        _receive.Reader.AdvanceTo(data.GetPosition(count));
        OnConsumed(count);
        return count;
    }

    /// <summary>Waits for the end of the response and returns its trailers (empty when it had none).</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> ReadTrailersAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _trailers.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Reset(Http2ErrorCode.Cancel);
            throw;
        }
    }

    /// <summary>
    /// Sends request DATA, waiting whenever the peer's stream or connection window is exhausted.
    /// Returns once the data is handed to the writer loop, so the buffer may be reused.
    /// If the peer already completed the response and asked us to stop (RST_STREAM NO_ERROR),
    /// the data is dropped quietly, as RFC 9113 8.1 intends.
    /// </summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteAsync(new ReadOnlySequence<byte>(data), cancellationToken);

    /// <summary>
    /// Sends a multi-segment buffer (e.g. what a <see cref="PipeReader"/> returned) without
    /// copying it first; otherwise like <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
    {
        BeginOperation();
        try
        {
            lock (_sync)
            {
                if (_requestEnded && _error is null && !_peerStoppedReading)
                {
                    throw new InvalidOperationException("The request body was already completed.");
                }
            }

            while (!data.IsEmpty)
            {
                int granted;
                try
                {
                    // Take as much window as is open: the writer splits it into frames, so one
                    // hand-off to the writer loop carries many frames.
                    granted = await _connection.ReserveSendWindowAsync(this, (int)Math.Min(data.Length, MaxWriteChunk), cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    Reset(Http2ErrorCode.Cancel);
                    throw;
                }

                if (granted == 0)
                {
                    return;
                }

                await SendAsync(data.Slice(0, granted), endStream: false);
                data = data.Slice(granted);
            }
        }
        finally
        {
            EndOperation();
        }
    }

    /// <summary>Ends the request body (END_STREAM). Idempotent.</summary>
    public async ValueTask CompleteRequestAsync()
    {
        BeginOperation();
        try
        {
            lock (_sync)
            {
                if (_requestEnded)
                {
                    if (_error is not null && !_localReset)
                    {
                        throw _error;
                    }

                    return;
                }
            }

            await SendAsync(ReadOnlySequence<byte>.Empty, endStream: true);
        }
        finally
        {
            EndOperation();
        }
    }

    /// <summary>
    /// Abandons the stream: sends RST_STREAM and fails pending and later reads and writes. Response
    /// data not read yet is dropped, and the connection window it held given back.
    /// </summary>
    public void Reset(Http2ErrorCode errorCode = Http2ErrorCode.Cancel)
    {
        Exception error;
        lock (_sync)
        {
            DiscardBufferedLocked();
            if (_localReset || (_requestEnded && _responseEnded))
            {
                return;
            }

            _localReset = true;
            _requestEnded = true;
            _responseEnded = true;
            error = _error ??= new Http2StreamException(errorCode, $"Stream {Id} was reset locally ({errorCode}).");
        }

        if (Id != 0)
        {
            _connection.EnqueueReset(Id, errorCode);
        }

        _receive.Reader.CancelPendingRead();
        _headers.TrySetException(error);
        _trailers.TrySetException(error);
        _connection.WakeWindowWaiter(this);
        _connection.OnStreamClosed(this);
    }

    /// <summary>Resets the stream with CANCEL unless both directions already finished.</summary>
    public ValueTask DisposeAsync()
    {
        Reset(Http2ErrorCode.Cancel);
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(ReadOnlySequence<byte> data, bool endStream)
    {
        var sent = Operation.Start();
        if (!_connection.EnqueueData(this, data, endStream))
        {
            throw new Http2ConnectionException("The connection is closed.");
        }

        await sent;
    }

    private void BeginOperation()
    {
        if (Interlocked.Exchange(ref _operationActive, 1) == 1)
        {
            throw new InvalidOperationException("Only one write may be in progress on a stream.");
        }
    }

    private void EndOperation() => Volatile.Write(ref _operationActive, 0);

    private void ThrowIfLocallyReset()
    {
        lock (_sync)
        {
            if (_localReset)
            {
                throw _error!;
            }
        }
    }

    private void OnConsumed(int count)
    {
        var increment = 0;
        lock (_sync)
        {
            if (_discarded)
            {
                // Already given back when the stream was reset or failed.
                return;
            }

            _buffered -= count;
            _unacknowledged += count;
            // Credit the peer only for what the consumer has taken: a slow reader slows the sender.
            if (!_responseEnded && _unacknowledged >= _connection.StreamWindowUpdateThreshold)
            {
                increment = _unacknowledged;
                _unacknowledged = 0;
                _receiveWindow += increment;
            }
        }

        if (increment > 0)
        {
            _connection.EnqueueWindowUpdate(Id, increment);
        }

        _connection.OnReceiveConsumed(count, buffered: count);
    }

    // Nobody will read what is buffered: the connection gets its window back.
    private void DiscardBufferedLocked()
    {
        if (_discarded)
        {
            return;
        }

        _discarded = true;
        if (_buffered > 0)
        {
            _connection.OnReceiveConsumed(_buffered, buffered: _buffered);
            _buffered = 0;
        }
    }

    internal bool SendAbandoned(out Exception? error)
    {
        lock (_sync)
        {
            error = _peerStoppedReading ? null : _error;
            return _error is not null || _peerStoppedReading || _localReset;
        }
    }

    internal void OnRequestEnded()
    {
        bool closed;
        lock (_sync)
        {
            _requestEnded = true;
            closed = _responseEnded;
        }

        if (closed)
        {
            _connection.OnStreamClosed(this);
        }
    }

    // ---- called by the reader loop only ----

    /// <summary>Takes a DATA frame's payload; returns how many octets were buffered for the consumer.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<int> OnDataAsync(ReadOnlySequence<byte> data, int frameLength, bool endStream)
    {
        lock (_sync)
        {
            if (_localReset || _error is not null)
            {
                return 0;
            }

            if (!_headersReceived)
            {
                throw new Http2StreamException(Http2ErrorCode.ProtocolError, "DATA before response HEADERS.");
            }

            if (_responseEnded)
            {
                throw new Http2StreamException(Http2ErrorCode.StreamClosed, "DATA after END_STREAM.");
            }

            _receiveWindow -= frameLength;
            if (_receiveWindow < 0)
            {
                throw new Http2StreamException(Http2ErrorCode.FlowControlError, "DATA beyond the stream receive window.");
            }

            // Padding is never read by the consumer, so credit it with the next update.
            _unacknowledged += frameLength - (int)data.Length;
            _buffered += (int)data.Length;
            MaxBufferedBytes = Math.Max(MaxBufferedBytes, _buffered);
        }

        if (!data.IsEmpty)
        {
            _connection.OnReceiveBuffered((int)data.Length);
            var writer = _receive.Writer;
            foreach (var segment in data)
            {
                writer.Write(segment.Span);
            }

            await writer.FlushAsync();
        }

        if (endStream)
        {
            EndResponse(NoTrailers);
        }

        return (int)data.Length;
    }

    internal void OnHeaders(List<KeyValuePair<string, string>> fields, bool endStream)
    {
        lock (_sync)
        {
            if (_localReset || _error is not null)
            {
                return;
            }

            if (_responseEnded)
            {
                throw new Http2StreamException(Http2ErrorCode.StreamClosed, "HEADERS after END_STREAM.");
            }
        }

        ValidateFields(fields, trailers: _headersReceived);
        if (!_headersReceived)
        {
            var status = ParseStatus(fields);
            if (status is >= 100 and < 200)
            {
                // Informational responses precede the real one and carry nothing we forward.
                if (endStream)
                {
                    throw new Http2StreamException(Http2ErrorCode.ProtocolError, "An informational response cannot end the stream.");
                }

                return;
            }

            StatusCode = status;
            _headersReceived = true;
            if (endStream)
            {
                // Set before the headers are published so a caller sees it as soon as they arrive.
                IsTrailersOnly = true;
                EndResponse(NoTrailers);
            }

            _headers.TrySetResult(fields);
            return;
        }

        if (!endStream)
        {
            throw new Http2StreamException(Http2ErrorCode.ProtocolError, "Trailers without END_STREAM.");
        }

        EndResponse(fields);
    }

    internal void OnPeerReset(Http2ErrorCode errorCode)
    {
        bool closed;
        lock (_sync)
        {
            if (errorCode == Http2ErrorCode.NoError && _responseEnded && _error is null)
            {
                // The response is complete and the peer wants no more of the request: not an error.
                _peerStoppedReading = true;
                _requestEnded = true;
                closed = true;
            }
            else
            {
                closed = false;
            }
        }

        if (closed)
        {
            _connection.WakeWindowWaiter(this);
            _connection.OnStreamClosed(this);
            return;
        }

        OnFailed(new Http2StreamException(errorCode, $"Stream {Id} was reset by the peer ({errorCode}).")
        {
            IsRetryable = errorCode == Http2ErrorCode.RefusedStream,
        });
    }

    internal void OnFailed(Exception error)
    {
        lock (_sync)
        {
            if (_localReset || (_requestEnded && _responseEnded))
            {
                return;
            }

            DiscardBufferedLocked();
            _error ??= error;
            _requestEnded = true;
            _responseEnded = true;
        }

        if (!_pipeCompleted)
        {
            _pipeCompleted = true;
            _receive.Writer.Complete(error);
        }

        _headers.TrySetException(error);
        _trailers.TrySetException(error);
        _connection.WakeWindowWaiter(this);
        _connection.OnStreamClosed(this);
    }

    private void EndResponse(IReadOnlyList<KeyValuePair<string, string>> trailers)
    {
        bool closed;
        lock (_sync)
        {
            _responseEnded = true;
            closed = _requestEnded;
        }

        _pipeCompleted = true;
        _receive.Writer.Complete();
        _trailers.TrySetResult(trailers);
        if (closed)
        {
            _connection.OnStreamClosed(this);
        }
    }

    /// <summary>Rejects malformed responses (RFC 9113 8.1.1, 8.2, 8.3): they fail only this stream.</summary>
    private static void ValidateFields(List<KeyValuePair<string, string>> fields, bool trailers)
    {
        var regularSeen = false;
        foreach (var (name, _) in fields)
        {
            if (name.Length == 0)
            {
                throw Malformed("an empty field name");
            }

            if (name[0] == ':')
            {
                if (trailers || regularSeen || name != ":status")
                {
                    throw Malformed($"pseudo-header {name} in this position");
                }

                continue;
            }

            regularSeen = true;
            foreach (var c in name)
            {
                if (c is >= 'A' and <= 'Z')
                {
                    throw Malformed($"upper-case field name {name}");
                }
            }

            if (name is "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "upgrade")
            {
                throw Malformed($"connection-specific field {name}");
            }
        }

        static Http2StreamException Malformed(string what) =>
            new(Http2ErrorCode.ProtocolError, $"Malformed response: {what}.");
    }

    private static int ParseStatus(List<KeyValuePair<string, string>> fields)
    {
        foreach (var (name, value) in fields)
        {
            if (name == ":status")
            {
                if (value.Length == 3 && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var status))
                {
                    return status;
                }

                break;
            }
        }

        throw new Http2StreamException(Http2ErrorCode.ProtocolError, "Response without a valid :status.");
    }
}
