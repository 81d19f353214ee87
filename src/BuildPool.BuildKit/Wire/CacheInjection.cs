using System.Buffers;
using System.Text;

namespace BuildPool.BuildKit.Wire;

/// <summary>
/// Adds a registry cache export and import to a <c>Control/Solve</c> request that carries none,
/// for pools that opt in. Protobuf merges a repeated occurrence of an embedded message field, so
/// appending one more field 8 (<c>CacheOptions</c>) to the encoded request is enough: the rest of
/// the request (the build definition, exporters, session) passes through byte for byte.
/// </summary>
public static class CacheInjection
{
    private const int CacheField = 8;
    private const int ExportsField = 4;
    private const int ImportsField = 5;

    /// <summary>True when the request already exports or imports a cache (then it is left alone).</summary>
    public static bool HasCacheOptions(ReadOnlySpan<byte> solveRequest)
    {
        var reader = new ProtoReader(solveRequest);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == CacheField && wire == ProtoWireType.LengthDelimited)
            {
                if (!reader.TryReadLengthDelimited(out var cache))
                {
                    return false;
                }

                var inner = new ProtoReader(cache);
                while (inner.TryReadTag(out var f, out var w))
                {
                    if (f is ExportsField or ImportsField)
                    {
                        return true;
                    }

                    if (!inner.TrySkip(w))
                    {
                        break;
                    }
                }
            }
            else if (!reader.TrySkip(wire))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// The <c>ref</c> of every cache export (<c>--cache-to</c>) the request carries, in order; an
    /// unreadable request yields what could be read before the damage.
    /// </summary>
    public static IReadOnlyList<string> ExportRefs(ReadOnlySpan<byte> solveRequest)
    {
        var refs = new List<string>();
        var reader = new ProtoReader(solveRequest);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field != CacheField || wire != ProtoWireType.LengthDelimited)
            {
                if (!reader.TrySkip(wire))
                {
                    break;
                }

                continue;
            }

            if (!reader.TryReadLengthDelimited(out var cache))
            {
                break;
            }

            var options = new ProtoReader(cache);
            while (options.TryReadTag(out var f, out var w))
            {
                if (f == ExportsField && w == ProtoWireType.LengthDelimited && options.TryReadLengthDelimited(out var entry))
                {
                    if (SolveRequestParser.TryReadEntry(entry, "ref"u8, out _, out var reference) && !reference.IsEmpty)
                    {
                        refs.Add(Encoding.UTF8.GetString(reference));
                    }
                }
                else if (!options.TrySkip(w))
                {
                    break;
                }
            }
        }

        return refs;
    }

    /// <summary>
    /// The request with <c>--cache-to type=registry,ref=…,&lt;exportAttrs&gt;</c> and
    /// <c>--cache-from type=registry,ref=…</c> added for <paramref name="cacheRef"/>; with
    /// <paramref name="export"/> false only the import (an untrusted build reads the cache but
    /// must never write what trusted builds read).
    /// </summary>
    public static byte[] Inject(ReadOnlySpan<byte> solveRequest, string cacheRef, IReadOnlyDictionary<string, string>? exportAttrs = null, bool export = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheRef);
        var exported = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["ref"] = cacheRef, ["mode"] = "max" };
        foreach (var (k, v) in exportAttrs ?? new Dictionary<string, string>())
        {
            exported[k] = v;
        }

        var options = new ArrayBufferWriter<byte>();
        if (export)
        {
            WriteMessage(options, ExportsField, Entry("registry", exported));
        }

        var import = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["ref"] = cacheRef };
        if (exported.TryGetValue("registry.insecure", out var insecure))
        {
            // A plain-HTTP registry is plain HTTP for reading too.
            import["registry.insecure"] = insecure;
        }

        WriteMessage(options, ImportsField, Entry("registry", import));

        var output = new ArrayBufferWriter<byte>(solveRequest.Length + options.WrittenCount + 8);
        output.Write(solveRequest);
        WriteMessage(output, CacheField, options.WrittenSpan);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Entry(string type, IEnumerable<KeyValuePair<string, string>> attrs)
    {
        var entry = new ArrayBufferWriter<byte>();
        WriteString(entry, 1, type);
        foreach (var (key, value) in attrs)
        {
            var pair = new ArrayBufferWriter<byte>();
            WriteString(pair, 1, key);
            WriteString(pair, 2, value);
            WriteMessage(entry, 2, pair.WrittenSpan);
        }

        return entry.WrittenSpan.ToArray();
    }

    private static void WriteString(ArrayBufferWriter<byte> output, int field, string value) =>
        WriteMessage(output, field, Encoding.UTF8.GetBytes(value));

    private static void WriteMessage(ArrayBufferWriter<byte> output, int field, ReadOnlySpan<byte> payload)
    {
        WriteVarint(output, ((ulong)field << 3) | 2);
        WriteVarint(output, (ulong)payload.Length);
        output.Write(payload);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        output.Advance(i);
    }
}
