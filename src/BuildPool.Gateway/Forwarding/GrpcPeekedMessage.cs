using System.Buffers;

namespace BuildPool.Gateway.Forwarding;

/// <summary>
/// The first gRPC message of a request body, read before choosing a backend (e.g. a Solve's
/// session and exporter fields). The bytes were consumed from the request body; the forwarder
/// sends them first, unchanged. The buffer is pooled and returned when the request ends.
/// </summary>
public sealed class GrpcPeekedMessage : IDisposable
{
    private byte[]? _buffer;
    private readonly int _consumed;

    internal GrpcPeekedMessage(byte[] buffer, int consumed, bool isComplete)
    {
        _buffer = buffer;
        _consumed = consumed;
        IsComplete = isComplete;
        if (consumed >= GrpcForwarder.MessagePrefixLength)
        {
            IsCompressed = buffer[0] != 0;
            DeclaredLength = (buffer[1] << 24) | (buffer[2] << 16) | (buffer[3] << 8) | buffer[4];
        }
    }

    /// <summary>True when the whole message was read; false when the body ended early or the message exceeded the peek limit.</summary>
    public bool IsComplete { get; }

    /// <summary>The compressed flag of the length prefix (the message is then in the call's grpc-encoding).</summary>
    public bool IsCompressed { get; }

    /// <summary>The length the prefix declared.</summary>
    public int DeclaredLength { get; }

    /// <summary>The serialized message (without the 5-byte prefix); empty unless <see cref="IsComplete"/>.</summary>
    public ReadOnlyMemory<byte> Message =>
        IsComplete ? Buffer.AsMemory(GrpcForwarder.MessagePrefixLength, DeclaredLength) : ReadOnlyMemory<byte>.Empty;

    /// <summary>Everything taken from the request body, prefix included: what must be forwarded first.</summary>
    internal ReadOnlyMemory<byte> Consumed => Buffer.AsMemory(0, _consumed);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(GrpcPeekedMessage));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
