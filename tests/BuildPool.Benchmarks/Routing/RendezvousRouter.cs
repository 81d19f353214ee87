using BuildPool.Gateway.Routing;

namespace BuildPool.Benchmarks.Routing;

/// <summary>
/// Rendezvous (highest random weight) hashing: a key goes to the member whose
/// <c>mix(key ⊕ member)</c> is largest. With bounded loads, to the highest-scoring member under
/// capacity, which is the same as walking members in descending score. One pass over all
/// members per decision, so the cost grows linearly with the pool.
/// </summary>
internal sealed class RendezvousRouter : IKeyRouter
{
    private readonly ulong[] _seeds;

    public RendezvousRouter(IReadOnlyList<string> members)
    {
        Members = members;
        _seeds = [.. members.Select(m => KeyHash.Hash(m))];
    }

    public string Name => "rendezvous (HRW)";

    public IReadOnlyList<string> Members { get; }

    public int OwnerOf(ulong hash)
    {
        var best = -1;
        var bestScore = 0UL;
        for (var i = 0; i < _seeds.Length; i++)
        {
            var score = KeyHash.Mix(hash ^ _seeds[i]);
            if (best < 0 || score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        return best;
    }

    public int Place(ulong hash, ReadOnlySpan<int> loads, long capacity)
    {
        var best = -1;
        var bestScore = 0UL;
        for (var i = 0; i < _seeds.Length; i++)
        {
            if (loads[i] >= capacity)
            {
                continue;
            }

            var score = KeyHash.Mix(hash ^ _seeds[i]);
            if (best < 0 || score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        return best >= 0 ? best : OwnerOf(hash);
    }
}
