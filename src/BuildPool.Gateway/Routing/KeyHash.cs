using System.Text;

namespace BuildPool.Gateway.Routing;

/// <summary>
/// The 64-bit hash behind placement. Every gateway replica must place a key on the same
/// builder, so the hash is defined over the key's UTF-8 bytes (not .NET's per-process
/// randomised string hash). FNV-1a is tiny and allocation-free, but its high bits mix poorly
/// for short, similar keys (<c>proj-1</c>, <c>proj-2</c>), so a MurmurHash3 finaliser follows;
/// ring positions compare whole 64-bit values and need every bit well mixed.
/// System.IO.Hashing's XxHash64 is a package, not part of the shared framework.
/// </summary>
public static class KeyHash
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    public static ulong Hash(ReadOnlySpan<char> key)
    {
        var hash = FnvOffset;
        Span<byte> utf8 = stackalloc byte[4];
        var i = 0;
        while (i < key.Length)
        {
            var c = key[i];
            if (c < 0x80)
            {
                hash = (hash ^ c) * FnvPrime;
                i++;
                continue;
            }

            // Lone surrogates hash as U+FFFD, as Encoding.UTF8 would encode them.
            Rune.DecodeFromUtf16(key[i..], out var rune, out var consumed);
            var length = rune.EncodeToUtf8(utf8);
            for (var b = 0; b < length; b++)
            {
                hash = (hash ^ utf8[b]) * FnvPrime;
            }

            i += consumed;
        }

        return Mix(hash);
    }

    /// <summary>MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit over the output.</summary>
    public static ulong Mix(ulong value)
    {
        value ^= value >> 33;
        value *= 0xff51afd7ed558ccd;
        value ^= value >> 33;
        value *= 0xc4ceb9fe1a85ec53;
        value ^= value >> 33;
        return value;
    }
}
