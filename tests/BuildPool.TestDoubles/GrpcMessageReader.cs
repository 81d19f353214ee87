using System.Buffers.Binary;
using BuildPool.Http2;

namespace BuildPool.TestDoubles;

/// <summary>
/// Splits a response body into gRPC length-prefixed messages (1 byte compressed flag, 4 bytes
/// big-endian length), written by hand so the fake client depends only on the gateway's HTTP/2 client.
/// </summary>
internal sealed class GrpcMessageReader(Http2ClientStream stream)
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        return framed;
    }

    /// <summary>The next message, or null at the end of the body.</summary>
    public async ValueTask<byte[]?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var available = _end - _start;
            if (available >= 5)
            {
                if (_buffer[_start] != 0)
                {
                    throw new InvalidDataException("Compressed gRPC messages are not expected from a fake builder.");
                }

                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start + 1));
                if (available >= 5 + length)
                {
                    var message = _buffer.AsSpan(_start + 5, length).ToArray();
                    _start += 5 + length;
                    return message;
                }

                Ensure(5 + length);
            }
            else
            {
                Ensure(5);
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                return _end == _start ? null : throw new InvalidDataException($"The body ended inside a gRPC message ({_end - _start} bytes left).");
            }

            _end += read;
        }
    }

    // Makes room for a whole message of `needed` bytes after _start, compacting or growing the buffer.
    private void Ensure(int needed)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_buffer.Length < needed || _end == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }
    }
}
