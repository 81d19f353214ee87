namespace BuildPool.BuildKit.Wire;

/// <summary>
/// A forward-only protobuf reader over a span: the gateway reads a few fields of a request's
/// first message to route it, without generated code and without deserialising (or allocating)
/// the rest. Every method returns false on malformed input instead of throwing, because the
/// bytes come straight from a client and a bad message must only cost that build its key.
/// </summary>
public ref struct ProtoReader
{
    // Deprecated groups can nest; a hostile message must not recurse without bound.
    private const int MaxGroupDepth = 32;

    private ReadOnlySpan<byte> _remaining;

    public ProtoReader(ReadOnlySpan<byte> message)
    {
        _remaining = message;
    }

    /// <summary>True when every byte has been consumed.</summary>
    public readonly bool IsAtEnd => _remaining.IsEmpty;

    /// <summary>Reads the next field tag; false at the end of the message or on a malformed tag.</summary>
    public bool TryReadTag(out int fieldNumber, out ProtoWireType wireType)
    {
        fieldNumber = 0;
        wireType = default;
        if (_remaining.IsEmpty || !TryReadVarint(out var tag))
        {
            return false;
        }

        var number = tag >> 3;
        var type = (int)(tag & 7);
        if (number == 0 || number > 536_870_911 || type > 5)
        {
            _remaining = default;
            return false;
        }

        fieldNumber = (int)number;
        wireType = (ProtoWireType)type;
        return true;
    }

    public bool TryReadVarint(out ulong value)
    {
        value = 0;
        var span = _remaining;
        // A varint is at most 10 bytes; anything longer is malformed, not a bigger number.
        for (var i = 0; i < span.Length && i < 10; i++)
        {
            var b = span[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                _remaining = span[(i + 1)..];
                return true;
            }
        }

        value = 0;
        _remaining = default;
        return false;
    }

    /// <summary>Reads a length-delimited payload (string, bytes, embedded message, packed field).</summary>
    public bool TryReadLengthDelimited(out ReadOnlySpan<byte> payload)
    {
        payload = default;
        if (!TryReadVarint(out var length) || length > (ulong)_remaining.Length)
        {
            _remaining = default;
            return false;
        }

        payload = _remaining[..(int)length];
        _remaining = _remaining[(int)length..];
        return true;
    }

    /// <summary>Skips the value of a field whose tag was just read.</summary>
    public bool TrySkip(ProtoWireType wireType) => TrySkip(wireType, 0);

    private bool TrySkip(ProtoWireType wireType, int depth)
    {
        switch (wireType)
        {
            case ProtoWireType.Varint:
                return TryReadVarint(out _);
            case ProtoWireType.Fixed64:
                return TryAdvance(8);
            case ProtoWireType.Fixed32:
                return TryAdvance(4);
            case ProtoWireType.LengthDelimited:
                return TryReadLengthDelimited(out _);
            case ProtoWireType.StartGroup:
                if (depth >= MaxGroupDepth)
                {
                    break;
                }

                while (TryReadTag(out _, out var inner))
                {
                    if (inner == ProtoWireType.EndGroup)
                    {
                        return true;
                    }

                    if (!TrySkip(inner, depth + 1))
                    {
                        return false;
                    }
                }

                break;
        }

        // An end-group without a start, or a group that never ends.
        _remaining = default;
        return false;
    }

    private bool TryAdvance(int count)
    {
        if (_remaining.Length < count)
        {
            _remaining = default;
            return false;
        }

        _remaining = _remaining[count..];
        return true;
    }
}
