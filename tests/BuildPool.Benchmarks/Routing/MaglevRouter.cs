using BuildPool.Gateway.Routing;

namespace BuildPool.Benchmarks.Routing;

/// <summary>
/// Maglev hashing (Eisenbud et al., NSDI 2016): each member fills slots of a prime-sized lookup
/// table in its own permutation order, round-robin, so a lookup is one modulo and one read.
/// With bounded loads the walk continues over the following slots, skipping members already
/// judged, as the ring does over its points.
/// </summary>
internal sealed class MaglevRouter : IKeyRouter
{
    // Prime, and over 100 slots per member up to 256 members, as the paper recommends (M ≥ 100 N).
    public const int TableSize = 65_537;

    private readonly int[] _table = new int[TableSize];

    public MaglevRouter(IReadOnlyList<string> members)
    {
        Members = members;
        var n = members.Count;
        var offsets = new long[n];
        var skips = new long[n];
        var next = new long[n];
        for (var i = 0; i < n; i++)
        {
            var h = KeyHash.Hash(members[i]);
            offsets[i] = (long)(h % TableSize);
            skips[i] = (long)(KeyHash.Mix(h ^ 0x5bd1e9955bd1e995) % (TableSize - 1)) + 1;
        }

        Array.Fill(_table, -1);
        var filled = 0;
        while (n > 0)
        {
            for (var i = 0; i < n && filled < TableSize; i++)
            {
                long slot;
                do
                {
                    slot = (offsets[i] + (next[i] * skips[i])) % TableSize;
                    next[i]++;
                }
                while (_table[slot] >= 0);

                _table[slot] = i;
                filled++;
            }

            if (filled == TableSize)
            {
                break;
            }
        }
    }

    public string Name => "Maglev";

    public IReadOnlyList<string> Members { get; }

    public int OwnerOf(ulong hash) => _table[(int)(hash % TableSize)];

    public int Place(ulong hash, ReadOnlySpan<int> loads, long capacity)
    {
        var members = Members.Count;
        Span<ulong> seen = stackalloc ulong[(members + 63) >> 6];
        var seenCount = 0;
        var slot = (int)(hash % TableSize);
        var home = _table[slot];
        for (var step = 0; step < TableSize && seenCount < members; step++, slot = slot + 1 == TableSize ? 0 : slot + 1)
        {
            var member = _table[slot];
            ref var word = ref seen[member >> 6];
            var bit = 1UL << (member & 63);
            if ((word & bit) != 0)
            {
                continue;
            }

            word |= bit;
            seenCount++;
            if (loads[member] < capacity)
            {
                return member;
            }
        }

        return home;
    }
}
