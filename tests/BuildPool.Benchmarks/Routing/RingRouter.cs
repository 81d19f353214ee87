using BuildPool.Gateway.Routing;

namespace BuildPool.Benchmarks.Routing;

/// <summary>
/// BuildPool's <see cref="HashRing"/> in the scenarios' shape, with the same clockwise walk
/// <see cref="Placement"/> uses for bounded loads, so the three algorithms are compared on
/// equal terms (the micro-benchmark measures <see cref="Placement.Place"/> itself).
/// </summary>
internal sealed class RingRouter : IKeyRouter
{
    private readonly HashRing _ring;

    public RingRouter(IReadOnlyList<string> members, int virtualNodes = 160)
    {
        Members = members;
        _ring = new HashRing([.. members.Select(m => (m, 1))], virtualNodes);
    }

    public string Name => "ring (BuildPool)";

    public IReadOnlyList<string> Members { get; }

    public int OwnerOf(ulong hash) => _ring.OwnerAt(_ring.FirstPoint(hash));

    public int Place(ulong hash, ReadOnlySpan<int> loads, long capacity)
    {
        var members = _ring.MemberCount;
        Span<ulong> seen = stackalloc ulong[(members + 63) >> 6];
        var seenCount = 0;
        var point = _ring.FirstPoint(hash);
        var home = _ring.OwnerAt(point);
        for (var step = 0; step < _ring.PointCount && seenCount < members; step++, point = _ring.NextPoint(point))
        {
            var member = _ring.OwnerAt(point);
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
