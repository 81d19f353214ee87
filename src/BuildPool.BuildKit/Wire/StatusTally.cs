using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace BuildPool.BuildKit.Wire;

/// <summary>
/// Counts a build's steps from its <c>Control/Status</c> response stream as it is forwarded:
/// distinct vertexes (field 1, by digest) and those reported <c>cached</c> (vertex field 4), and
/// keeps each vertex's name, inputs, cached flag and times (<see cref="Vertexes"/>), bounded to
/// <see cref="MaxVertexes"/> vertexes. It reads the gRPC frames out of the bytes on their way to
/// the client, whatever the chunking, and never changes or re-serialises them. An update of a
/// vertex already seen costs no allocation.
/// </summary>
public sealed class StatusTally
{
    // Status updates are small; a larger (or compressed) message is skipped, not buffered.
    private const int MaxMessageSize = 1024 * 1024;
    private const int VertexesField = 1;
    private const int DigestField = 1;
    private const int InputsField = 2;
    private const int NameField = 3;
    private const int CachedField = 4;
    private const int StartedField = 5;
    private const int CompletedField = 6;
    private const int ErrorField = 7;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _vertexes = new(StringComparer.Ordinal);
    private readonly List<Entry> _order = [];
    private int _cachedCount;
    private readonly byte[] _prefix = new byte[5];
    private int _prefixFilled;
    private byte[]? _message;
    private int _messageLength;
    private int _messageFilled;
    private int _skipRemaining;

    /// <summary>Distinct vertexes a build's stream may describe; later ones are not kept (a real build has hundreds at most).</summary>
    public const int MaxVertexes = 2048;

    /// <summary>Longer vertex names are cut (with an ellipsis): a <c>RUN</c> line can be kilobytes.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Inputs kept per vertex.</summary>
    public const int MaxInputs = 16;

    /// <summary>Distinct vertexes seen.</summary>
    public int TotalSteps
    {
        get
        {
            lock (_lock)
            {
                return _vertexes.Count;
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
                return _cachedCount;
            }
        }
    }

    /// <summary>The vertexes seen so far, in the order they were first reported.</summary>
    public IReadOnlyList<StatusVertex> Vertexes
    {
        get
        {
            lock (_lock)
            {
                return _order.Select(e => new StatusVertex(
                    e.Digest,
                    e.Name,
                    e.Inputs,
                    e.Cached,
                    e.Started == 0 ? null : new DateTimeOffset(e.Started, TimeSpan.Zero),
                    e.Completed == 0 ? null : new DateTimeOffset(e.Completed, TimeSpan.Zero),
                    e.Failed)).ToList();
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
        var failed = false;
        long started = 0;
        long completed = 0;
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
            else if (field is StartedField or CompletedField or ErrorField && wireType == ProtoWireType.LengthDelimited)
            {
                if (!reader.TryReadLengthDelimited(out var payload))
                {
                    return;
                }

                if (field == ErrorField)
                {
                    failed |= !payload.IsEmpty;
                }
                else if (field == StartedField)
                {
                    started = ReadTimestamp(payload);
                }
                else
                {
                    completed = ReadTimestamp(payload);
                }
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
            var lookup = _vertexes.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(key, out var entry))
            {
                if (_vertexes.Count >= MaxVertexes)
                {
                    return;
                }

                entry = Describe(new string(key), vertex);
                _vertexes.Add(entry.Digest, entry);
                _order.Add(entry);
            }

            if (cached && !entry.Cached)
            {
                entry.Cached = true;
                _cachedCount++;
            }

            entry.Failed |= failed;
            if (started != 0 && (entry.Started == 0 || started < entry.Started))
            {
                entry.Started = started;
            }

            if (completed != 0 && completed > entry.Completed)
            {
                entry.Completed = completed;
            }
        }
    }

    // The first update of a vertex: its name and inputs (later updates repeat them).
    private static Entry Describe(string digest, ReadOnlySpan<byte> vertex)
    {
        var reader = new ProtoReader(vertex);
        var name = string.Empty;
        var inputs = new List<string>();
        while (!reader.IsAtEnd && reader.TryReadTag(out var field, out var wireType))
        {
            if (field is NameField or InputsField && wireType == ProtoWireType.LengthDelimited)
            {
                if (!reader.TryReadLengthDelimited(out var payload))
                {
                    break;
                }

                if (field == NameField)
                {
                    name = Cut(Encoding.UTF8.GetString(payload));
                }
                else if (inputs.Count < MaxInputs && payload.Length <= 256)
                {
                    inputs.Add(Encoding.UTF8.GetString(payload));
                }
            }
            else if (!reader.TrySkip(wireType))
            {
                break;
            }
        }

        return new Entry(digest, name, inputs);
    }

    private static string Cut(string name) => name.Length <= MaxNameLength ? name : string.Concat(name.AsSpan(0, MaxNameLength - 1), "…");

    // google.protobuf.Timestamp {1 seconds, 2 nanos} as UTC ticks; 0 when absent or out of range.
    private static long ReadTimestamp(ReadOnlySpan<byte> timestamp)
    {
        var reader = new ProtoReader(timestamp);
        ulong seconds = 0;
        ulong nanos = 0;
        while (!reader.IsAtEnd && reader.TryReadTag(out var field, out var wireType))
        {
            if (wireType == ProtoWireType.Varint && field is 1 or 2)
            {
                if (!reader.TryReadVarint(out var value))
                {
                    return 0;
                }

                if (field == 1)
                {
                    seconds = value;
                }
                else
                {
                    nanos = value;
                }
            }
            else if (!reader.TrySkip(wireType))
            {
                return 0;
            }
        }

        // Seconds since 1970 up to year 9999; a negative (pre-1970) or absurd time reads as none.
        if (seconds == 0 || seconds > 253_402_300_799UL || nanos >= 1_000_000_000UL)
        {
            return 0;
        }

        return DateTimeOffset.UnixEpoch.Ticks + ((long)seconds * TimeSpan.TicksPerSecond) + ((long)nanos / 100);
    }

    private sealed class Entry(string digest, string name, IReadOnlyList<string> inputs)
    {
        public string Digest { get; } = digest;

        public string Name { get; } = name;

        public IReadOnlyList<string> Inputs { get; } = inputs;

        public bool Cached { get; set; }

        public bool Failed { get; set; }

        public long Started { get; set; }

        public long Completed { get; set; }
    }
}
