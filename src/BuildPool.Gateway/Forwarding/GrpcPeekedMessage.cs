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
    private int _consumed;

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
    public int DeclaredLength { get; private set; }

    /// <summary>The serialized message (without the 5-byte prefix); empty unless <see cref="IsComplete"/>.</summary>
    public ReadOnlyMemory<byte> Message =>
        IsComplete ? Buffer.AsMemory(GrpcForwarder.MessagePrefixLength, DeclaredLength) : ReadOnlyMemory<byte>.Empty;

    /// <summary>Everything taken from the request body, prefix included: what must be forwarded first.</summary>
    internal ReadOnlyMemory<byte> Consumed => Buffer.AsMemory(0, _consumed);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(GrpcPeekedMessage));

    /// <summary>
    /// Forwards <paramref name="message"/> in place of the peeked message (uncompressed, new length
    /// prefix); bytes read past the first message still follow it.
    /// </summary>
    public void Replace(ReadOnlySpan<byte> message)
    {
        if (!IsComplete || IsCompressed)
        {
            throw new InvalidOperationException("Only a complete, uncompressed message can be replaced.");
        }

        var old = Buffer;
        var rest = old.AsSpan(GrpcForwarder.MessagePrefixLength + DeclaredLength, _consumed - GrpcForwarder.MessagePrefixLength - DeclaredLength);
        var next = ArrayPool<byte>.Shared.Rent(GrpcForwarder.MessagePrefixLength + message.Length + rest.Length);
        next[0] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(next.AsSpan(1, 4), message.Length);
        message.CopyTo(next.AsSpan(GrpcForwarder.MessagePrefixLength));
        rest.CopyTo(next.AsSpan(GrpcForwarder.MessagePrefixLength + message.Length));
        _consumed = GrpcForwarder.MessagePrefixLength + message.Length + rest.Length;
        DeclaredLength = message.Length;
        _buffer = next;
        ArrayPool<byte>.Shared.Return(old);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
