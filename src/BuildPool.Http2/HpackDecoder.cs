using System.Buffers;
using System.Text;

namespace BuildPool.Http2;

/// <summary>
/// HPACK decoder (RFC 7541). Decodes a complete field block; state (the dynamic table) carries
/// across blocks of one connection, so every block must be decoded, even for discarded streams.
/// </summary>
internal sealed class HpackDecoder(int maxTableSize = HpackDecoder.DefaultTableSize, int maxHeaderListSize = HpackDecoder.DefaultMaxHeaderListSize)
{
    public const int DefaultTableSize = 4096;
    public const int DefaultMaxHeaderListSize = 64 * 1024;

    // No single string may exceed the list limit anyway; this also bounds Huffman scratch space.
    private readonly int _maxStringLength = Math.Max(maxHeaderListSize, 4096);

    public HpackDynamicTable Table { get; } = new(maxTableSize);

    /// <summary>Our SETTINGS_HEADER_TABLE_SIZE: the ceiling for size updates from the peer.</summary>
    public int MaxTableSize { get; } = maxTableSize;

    /// <summary>Our SETTINGS_MAX_HEADER_LIST_SIZE.</summary>
    public int MaxHeaderListSize { get; } = maxHeaderListSize;

    /// <summary>
    /// Appends the block's fields to <paramref name="headers"/> in wire order. Returns false when
    /// the list exceeded <see cref="MaxHeaderListSize"/>: decoding still finishes so the table stays
    /// in sync, but the fields are dropped and only the stream should fail.
    /// </summary>
    /// <exception cref="HpackException">The block is malformed; the connection must fail with COMPRESSION_ERROR.</exception>
    public bool Decode(ReadOnlySpan<byte> block, List<KeyValuePair<string, string>> headers)
    {
        var start = headers.Count;
        long listSize = 0;
        var sawField = false;
        var position = 0;
        while (position < block.Length)
        {
            var b = block[position];
            KeyValuePair<string, string> field;
            if ((b & 0x80) != 0)
            {
                field = GetIndexed(ReadInteger(block, ref position, 7));
            }
            else if ((b & 0xC0) == 0x40)
            {
                field = ReadLiteral(block, ref position, 6);
                Table.Insert(field.Key, field.Value);
            }
            else if ((b & 0xE0) == 0x20)
            {
                if (sawField)
                {
                    throw new HpackException("Dynamic table size update after the first field.");
                }

                var size = ReadInteger(block, ref position, 5);
                if (size > MaxTableSize)
                {
                    throw new HpackException($"Dynamic table size update {size} above the limit {MaxTableSize}.");
                }

                Table.Resize(size);
                continue;
            }
            else
            {
                // 0000xxxx without indexing, 0001xxxx never indexed: same decoding for a receiver.
                field = ReadLiteral(block, ref position, 4);
            }

            sawField = true;
            listSize += HpackDynamicTable.EntrySize(field.Key, field.Value);
            if (listSize <= MaxHeaderListSize)
            {
                headers.Add(field);
            }
        }

        if (listSize > MaxHeaderListSize)
        {
            headers.RemoveRange(start, headers.Count - start);
            return false;
        }

        return true;
    }

    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length)
        {
            throw new HpackException("Truncated integer.");
        }

        var mask = (1 << prefixBits) - 1;
        var value = block[position++] & mask;
        if (value < mask)
        {
            return value;
        }

        var shift = 0;
        while (true)
        {
            if (position >= block.Length)
            {
                throw new HpackException("Truncated integer.");
            }

            var b = block[position++];
            if (shift > 28)
            {
                throw new HpackException("Integer overflow.");
            }

            var add = (long)(b & 0x7F) << shift;
            if (value + add > int.MaxValue)
            {
                throw new HpackException("Integer overflow.");
            }

            value += (int)add;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    private KeyValuePair<string, string> GetIndexed(int index)
    {
        if (index == 0)
        {
            throw new HpackException("Index 0 is not valid.");
        }

        if (index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Get(index);
        }

        return Table[index - HpackStaticTable.Count];
    }

    private KeyValuePair<string, string> ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var nameIndex = ReadInteger(block, ref position, prefixBits);
        var name = nameIndex == 0 ? ReadString(block, ref position) : GetIndexed(nameIndex).Key;
        var value = ReadString(block, ref position);
        return new(name, value);
    }

    private string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length)
        {
            throw new HpackException("Truncated string.");
        }

        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new HpackException("String longer than the field block.");
        }

        if (length > _maxStringLength)
        {
            throw new HpackException("String longer than the header list limit.");
        }

        var raw = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            return Encoding.Latin1.GetString(raw);
        }

        // The shortest code is 5 bits, so the output is at most 8/5 of the input.
        var capacity = Math.Min((length * 8 / 5) + 1, _maxStringLength);
        var rented = ArrayPool<byte>.Shared.Rent(capacity);
        try
        {
            var written = HpackHuffman.Decode(raw, rented.AsSpan(0, capacity));
            return Encoding.Latin1.GetString(rented, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
