namespace BuildPool.Http2;

/// <summary>Huffman coding of string literals (RFC 7541 section 5.2).</summary>
internal static class HpackHuffman
{
    private const int Eos = 256;

    // Binary decoding tree, two slots per node: >= 0 is the next node, < 0 is a leaf holding ~symbol.
    // Built once from the code table so the table stays the single source of truth.
    private static readonly short[] Tree = BuildTree();

    public static int GetEncodedLength(ReadOnlySpan<char> value)
    {
        long bits = 0;
        foreach (var c in value)
        {
            bits += HpackHuffmanTable.Lengths[(byte)c];
        }

        return (int)((bits + 7) / 8);
    }

    /// <summary>Encodes Latin-1 characters; returns bytes written. <paramref name="destination"/> must hold <see cref="GetEncodedLength"/>.</summary>
    public static int Encode(ReadOnlySpan<char> value, Span<byte> destination)
    {
        ulong buffer = 0;
        var bitCount = 0;
        var written = 0;
        foreach (var c in value)
        {
            var symbol = (byte)c;
            int length = HpackHuffmanTable.Lengths[symbol];
            buffer = (buffer << length) | HpackHuffmanTable.Codes[symbol];
            bitCount += length;
            while (bitCount >= 8)
            {
                bitCount -= 8;
                destination[written++] = (byte)(buffer >> bitCount);
            }
        }

        if (bitCount > 0)
        {
            // Pad with the most significant bits of EOS (all ones).
            destination[written++] = (byte)((buffer << (8 - bitCount)) | (0xFFu >> bitCount));
        }

        return written;
    }

    /// <summary>Decodes into <paramref name="destination"/> (worst case 8/5 of the input); returns bytes written.</summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var node = 0;
        var written = 0;
        var bitsSinceSymbol = 0;
        var allOnes = true;
        foreach (var b in source)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var one = (b >> bit) & 1;
                var next = Tree[(node * 2) + one];
                bitsSinceSymbol++;
                allOnes &= one == 1;
                if (next >= 0)
                {
                    node = next;
                    continue;
                }

                var symbol = ~next;
                if (symbol == Eos)
                {
                    throw new HpackException("Huffman string contains EOS.");
                }

                if (written == destination.Length)
                {
                    throw new HpackException("Huffman string longer than its limit.");
                }

                destination[written++] = (byte)symbol;
                node = 0;
                bitsSinceSymbol = 0;
                allOnes = true;
            }
        }

        // Padding must be a prefix of EOS (all ones) and shorter than a byte (RFC 7541 5.2).
        if (bitsSinceSymbol > 7 || !allOnes)
        {
            throw new HpackException("Invalid Huffman padding.");
        }

        return written;
    }

    private static short[] BuildTree()
    {
        var tree = new short[2 * 512];
        Array.Fill(tree, short.MaxValue);
        short nodes = 1;
        for (var symbol = 0; symbol <= Eos; symbol++)
        {
            var code = HpackHuffmanTable.Codes[symbol];
            int length = HpackHuffmanTable.Lengths[symbol];
            var node = 0;
            for (var i = length - 1; i > 0; i--)
            {
                var slot = (node * 2) + (int)((code >> i) & 1);
                if (tree[slot] == short.MaxValue)
                {
                    tree[slot] = nodes++;
                }

                node = tree[slot];
            }

            tree[(node * 2) + (int)(code & 1)] = (short)~symbol;
        }

        return tree;
    }
}
