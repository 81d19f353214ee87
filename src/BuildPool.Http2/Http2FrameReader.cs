using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace BuildPool.Http2;

/// <summary>
/// Splits a byte stream into frames without copying payloads. Enforces the frame size we
/// advertised (SETTINGS_MAX_FRAME_SIZE); everything else about a frame's meaning is checked by
/// <see cref="Http2FrameParser"/> and the connection.
/// </summary>
internal sealed class Http2FrameReader(PipeReader input)
{
    private SequencePosition _consumed;
    private bool _holding;

    public int MaxFrameSize { get; set; } = Http2FrameHeader.DefaultMaxFrameSize;

    public Http2Frame Current { get; private set; }

    /// <summary>Reads the next frame; false on a clean end of input at a frame boundary.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ReadFrameAsync(CancellationToken cancellationToken)
    {
        if (_holding)
        {
            input.AdvanceTo(_consumed);
            _holding = false;
        }

        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryParse(buffer, MaxFrameSize, out var frame, out var end))
            {
                Current = frame;
                _consumed = end;
                _holding = true;
                return true;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.End);
                if (buffer.IsEmpty)
                {
                    return false;
                }

                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "Connection closed in the middle of a frame.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    internal static bool TryParse(ReadOnlySequence<byte> buffer, int maxFrameSize, out Http2Frame frame, out SequencePosition end)
    {
        frame = default;
        end = default;
        if (buffer.Length < Http2FrameHeader.Size)
        {
            return false;
        }

        Span<byte> headerBytes = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(headerBytes);
        var header = Http2FrameHeader.Read(headerBytes);
        if (header.Length > maxFrameSize)
        {
            // Treated as a connection error for every frame type: a frame too large to read
            // cannot be skipped safely, and HEADERS/SETTINGS ones would desynchronise state anyway.
            throw new Http2ConnectionException(
                Http2ErrorCode.FrameSizeError,
                $"Frame of {header.Length} octets exceeds SETTINGS_MAX_FRAME_SIZE {maxFrameSize}.");
        }

        if (buffer.Length < Http2FrameHeader.Size + header.Length)
        {
            return false;
        }

        var payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        frame = new Http2Frame(header, payload);
        end = payload.End;
        return true;
    }
}
