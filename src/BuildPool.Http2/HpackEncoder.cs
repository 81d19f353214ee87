using System.Buffers;
using System.Collections.Frozen;

namespace BuildPool.Http2;

/// <summary>
/// HPACK encoder that writes every field as its own representation, in the given order, and
/// never joins values: a repeated name produces repeated fields. This is the property BuildKit's
/// session needs (one <c>X-Docker-Expose-Session-Grpc-Method</c> field per method) and the
/// reason this encoder exists instead of <c>HttpClient</c>.
/// It never inserts into the dynamic table: a proxy sees many different values and the table
/// buys little, while a stateless encoder cannot desynchronise and needs no per-peer tuning.
/// </summary>
internal sealed class HpackEncoder
{
    // Credentials are sent "never indexed" so no intermediary compresses them (RFC 7541 7.1.3).
    private static readonly FrozenSet<string> DefaultSensitive = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie");

    private readonly FrozenSet<string> _sensitive;
    private bool _sentTableSizeUpdate;

    public HpackEncoder(bool useHuffman = true, IEnumerable<string>? sensitiveNames = null)
    {
        UseHuffman = useHuffman;
        _sensitive = sensitiveNames is null
            ? DefaultSensitive
            : DefaultSensitive.Concat(sensitiveNames).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    public bool UseHuffman { get; set; }

    public void Encode(IReadOnlyList<KeyValuePair<string, string>> headers, IBufferWriter<byte> output)
    {
        if (!_sentTableSizeUpdate)
        {
            // We never index, so we tell the peer its table for us can be empty. Size 0 is below
            // any SETTINGS_HEADER_TABLE_SIZE it may announce later, so no further updates are due.
            var span = output.GetSpan(1);
            span[0] = 0x20;
            output.Advance(1);
            _sentTableSizeUpdate = true;
        }

        for (var i = 0; i < headers.Count; i++)
        {
            var (name, value) = headers[i];
            EncodeField(name, value, output);
        }
    }

    private void EncodeField(string name, string value, IBufferWriter<byte> output)
    {
        var exact = HpackStaticTable.FindField(name, value);
        if (exact != 0)
        {
            WriteInteger(output, 0x80, 7, exact);
            return;
        }

        // 0001xxxx never indexed, 0000xxxx without indexing.
        var firstByte = _sensitive.Contains(name) ? (byte)0x10 : (byte)0x00;
        var nameIndex = HpackStaticTable.FindName(name);
        WriteInteger(output, firstByte, 4, nameIndex);
        if (nameIndex == 0)
        {
            // HTTP/2 field names are lower case on the wire (RFC 9113 8.2.1).
            WriteString(output, HasUpper(name) ? name.ToLowerInvariant() : name);
        }

        WriteString(output, value);
    }

    private void WriteString(IBufferWriter<byte> output, string value)
    {
        if (UseHuffman)
        {
            var encodedLength = HpackHuffman.GetEncodedLength(value);
            if (encodedLength < value.Length)
            {
                WriteInteger(output, 0x80, 7, encodedLength);
                var span = output.GetSpan(encodedLength);
                output.Advance(HpackHuffman.Encode(value, span));
                return;
            }
        }

        WriteInteger(output, 0x00, 7, value.Length);
        var raw = output.GetSpan(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            // Field values are Latin-1 octets in HTTP/2; callers validate characters upstream.
            raw[i] = (byte)value[i];
        }

        output.Advance(value.Length);
    }

    internal static void WriteInteger(IBufferWriter<byte> output, byte firstByte, int prefixBits, int value)
    {
        var span = output.GetSpan(6);
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            span[0] = (byte)(firstByte | value);
            output.Advance(1);
            return;
        }

        span[0] = (byte)(firstByte | max);
        value -= max;
        var i = 1;
        while (value >= 0x80)
        {
            span[i++] = (byte)((value & 0x7F) | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        output.Advance(i);
    }

    private static bool HasUpper(string name)
    {
        foreach (var c in name)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return true;
            }
        }

        return false;
    }
}
