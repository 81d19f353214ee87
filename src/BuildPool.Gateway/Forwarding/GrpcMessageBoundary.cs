namespace BuildPool.Gateway.Forwarding;

/// <summary>
/// Follows the gRPC length-prefixed framing (1 flag byte, 4-byte big-endian length, message) of
/// the bytes a response has sent so far, so the forwarder knows whether the client has received
/// only whole messages. Only then can a failure mid-stream end the call with a status in the
/// trailers; after half a message the client would read the trailers as a truncated message.
/// </summary>
internal sealed class GrpcMessageBoundary
{
    private int _prefixSeen;
    private uint _declaredLength;
    private long _payloadLeft;

    /// <summary>True when every byte seen so far belongs to a complete message.</summary>
    public bool AtBoundary => _prefixSeen == 0 && _payloadLeft == 0;

    public void Advance(ReadOnlySpan<byte> sent)
    {
        while (!sent.IsEmpty)
        {
            if (_payloadLeft > 0)
            {
                var take = (int)Math.Min(_payloadLeft, sent.Length);
                _payloadLeft -= take;
                sent = sent[take..];
                continue;
            }

            // Byte 0 of the prefix is the compressed flag; bytes 1 to 4 are the length.
            if (_prefixSeen > 0)
            {
                _declaredLength = (_declaredLength << 8) | sent[0];
            }

            sent = sent[1..];
            if (++_prefixSeen == GrpcForwarder.MessagePrefixLength)
            {
                _payloadLeft = _declaredLength;
                _prefixSeen = 0;
                _declaredLength = 0;
            }
        }
    }
}
