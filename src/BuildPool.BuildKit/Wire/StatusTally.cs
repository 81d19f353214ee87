using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace BuildPool.BuildKit.Wire;

/// <summary>
/// Counts a build's steps from its <c>Control/Status</c> response stream as it is forwarded:
/// distinct vertexes (field 1, by digest) and those reported <c>cached</c> (vertex field 4).
/// It reads the gRPC frames out of the bytes on their way to the client, whatever the chunking,
/// and never changes or re-serialises them. A vertex already seen costs no allocation.
/// </summary>
public sealed class StatusTally
{
    // Status updates are small; a larger (or compressed) message is skipped, not buffered.
    private const int MaxMessageSize = 1024 * 1024;
    private const int VertexesField = 1;
    private const int DigestField = 1;
    private const int CachedField = 4;

    private readonly Lock _lock = new();
    private readonly HashSet<string> _all = new(StringComparer.Ordinal);
    private readonly HashSet<string> _cached = new(StringComparer.Ordinal);
    private readonly byte[] _prefix = new byte[5];
    private int _prefixFilled;
    private byte[]? _message;
    private int _messageLength;
    private int _messageFilled;
    private int _skipRemaining;

    /// <summary>Distinct vertexes seen.</summary>
    public int TotalSteps
    {
        get
        {
            lock (_lock)
            {
                return _all.Count;
            }
        }
    }

    /// <summary>Vertexes some update reported as cached.</summary>
    public int CachedSteps
    {
        get
        {
            lock (_lock)
            {
                return _cached.Count;
            }
        }
    }

    /// <summary>Feeds response bytes in order (called by one writer at a time).</summary>
    public void Observe(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_skipRemaining > 0)
            {
                var skip = Math.Min(_skipRemaining, data.Length);
                _skipRemaining -= skip;
                data = data[skip..];
                continue;
            }

            if (_message is null)
            {
                var take = Math.Min(5 - _prefixFilled, data.Length);
                data[..take].CopyTo(_prefix.AsSpan(_prefixFilled));
                _prefixFilled += take;
                data = data[take..];
                if (_prefixFilled < 5)
                {
                    return;
                }

                _prefixFilled = 0;
                var length = BinaryPrimitives.ReadUInt32BigEndian(_prefix.AsSpan(1));
                if (_prefix[0] != 0 || length > MaxMessageSize)
                {
                    _skipRemaining = (int)Math.Min(length, int.MaxValue);
                    continue;
                }

                _messageLength = (int)length;
                _messageFilled = 0;
                _message = ArrayPool<byte>.Shared.Rent(Math.Max(_messageLength, 1));
            }

            var copy = Math.Min(_messageLength - _messageFilled, data.Length);
            data[..copy].CopyTo(_message.AsSpan(_messageFilled));
            _messageFilled += copy;
            data = data[copy..];
            if (_messageFilled == _messageLength)
            {
                Count(_message.AsSpan(0, _messageLength));
                ArrayPool<byte>.Shared.Return(_message);
                _message = null;
            }
        }
    }

    private void Count(ReadOnlySpan<byte> statusResponse)
    {
        var reader = new ProtoReader(statusResponse);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return;
            }

            if (field == VertexesField && wireType == ProtoWireType.LengthDelimited)
            {
                if (!reader.TryReadLengthDelimited(out var vertex))
                {
                    return;
                }

                CountVertex(vertex);
            }
            else if (!reader.TrySkip(wireType))
            {
                return;
            }
        }
    }

    private void CountVertex(ReadOnlySpan<byte> vertex)
    {
        var reader = new ProtoReader(vertex);
        ReadOnlySpan<byte> digest = default;
        var cached = false;
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return;
            }

            if (field == DigestField && wireType == ProtoWireType.LengthDelimited)
            {
                if (!reader.TryReadLengthDelimited(out digest))
                {
                    return;
                }
            }
            else if (field == CachedField && wireType == ProtoWireType.Varint)
            {
                if (!reader.TryReadVarint(out var value))
                {
                    return;
                }

                cached = value != 0;
            }
            else if (!reader.TrySkip(wireType))
            {
                return;
            }
        }

        if (digest.IsEmpty || digest.Length > 256)
        {
            return;
        }

        Span<char> text = stackalloc char[256];
        var length = Encoding.UTF8.GetChars(digest, text);
        var key = text[..length];
        lock (_lock)
        {
            var all = _all.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!all.Contains(key))
            {
                all.Add(key);
            }

            if (cached)
            {
                var cachedLookup = _cached.GetAlternateLookup<ReadOnlySpan<char>>();
                if (!cachedLookup.Contains(key))
                {
                    cachedLookup.Add(key);
                }
            }
        }
    }
}
