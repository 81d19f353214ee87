using BuildPool.Benchmarks.Report;
using BuildPool.Benchmarks.Routing;
using BuildPool.Gateway.Routing;

namespace BuildPool.Benchmarks.Scenarios;

/// <summary>
/// Key movement and balance over many keys: how many keys change builder when one is added or
/// removed, whether any move between builders that stayed, and how even the load is with and
/// without the bound.
/// </summary>
internal static class MovementScenario
{
    private const double LoadFactor = 1.25;

    public static string Run(bool quick)
    {
        var keyCount = quick ? 100_000 : 1_000_000;
        var hashes = new ulong[keyCount];
        var keys = new string[keyCount];
        for (var i = 0; i < keyCount; i++)
        {
            keys[i] = $"github.com/org/project-{i}";
            hashes[i] = KeyHash.Hash(keys[i]);
        }

        var movement = new MarkdownTable("N", "algorithm", "change", "keys moved", "ideal", "moved between surviving builders", "goal (≤ 1.1/(N+1) on add)");
        var balance = new MarkdownTable("N", "algorithm", "max/mean, no bound", "min/mean, no bound", "max/mean, bound c = 1.25 (all keys held)");
        foreach (var n in new[] { 8, 64 })
        {
            var before = Ids(n);
            var added = Ids(n + 1);
            var removedId = $"pool-{n / 2}";
            var removed = before.Where(id => id != removedId).ToList();
            foreach (var make in new Func<IReadOnlyList<string>, IKeyRouter>[] { m => new RingRouter(m), m => new RendezvousRouter(m), m => new MaglevRouter(m) })
            {
                var router = make(before);
                var home = Homes(router, hashes);
                var (addMoved, addStray) = Moved(home, Homes(make(added), hashes), hashes.Length, to: $"pool-{n}", from: null);
                var (removeMoved, removeStray) = Moved(home, Homes(make(removed), hashes), hashes.Length, to: null, from: removedId);
                var ideal = 1.0 / (n + 1);
                var removedShare = home.Count(h => h == removedId) / (double)keyCount;
                movement.Add(n, router.Name, $"{n}→{n + 1}", Format.Percent(addMoved), Format.Percent(ideal) + " (1/(N+1))",
                    addStray, Format.Goal(addMoved <= 1.1 * ideal && addStray == 0, "≤ " + Format.Percent(1.1 * ideal)));
                movement.Add(n, router.Name, $"{n}→{n - 1}", Format.Percent(removeMoved), Format.Percent(removedShare) + " (its keys)",
                    removeStray, string.Empty);

                var counts = new int[n];
                foreach (var h in hashes)
                {
                    counts[router.OwnerOf(h)]++;
                }

                var mean = keyCount / (double)n;
                var bounded = router is RingRouter ? BoundedWithPlacement(before, keys) : Bounded(router, hashes);
                balance.Add(n, router.Name, Format.Number(counts.Max() / mean, 3), Format.Number(counts.Min() / mean, 3), Format.Number(bounded.Max() / mean, 3));
            }
        }

        return $"""
            ## Key movement and balance

            {keyCount:N0} keys (`github.com/org/project-i`), builders `pool-0` … `pool-N-1`; add = `pool-N`
            joins, remove = `pool-N/2` leaves. Movement compares each key's home (the first builder
            in its order, no load bound). The ring uses 160 virtual nodes per builder, Maglev a
            65,537-slot table.

            {movement}
            Balance: keys per builder relative to the mean. "Bound" places every key in turn and
            keeps it running, so each builder's load stays under ⌈1.25 × (total + 1) / N⌉; the ring
            row uses the production `Placement` with `Track` handles.

            {balance}
            """;
    }

    private static List<string> Ids(int n) => [.. Enumerable.Range(0, n).Select(i => $"pool-{i}")];

    private static string[] Homes(IKeyRouter router, ulong[] hashes)
    {
        var homes = new string[hashes.Length];
        for (var i = 0; i < hashes.Length; i++)
        {
            homes[i] = router.Members[router.OwnerOf(hashes[i])];
        }

        return homes;
    }

    // Fraction of keys whose home changed, and how many of those moved between builders present
    // on both sides (neither to the added builder nor away from the removed one).
    private static (double Moved, long Stray) Moved(string[] before, string[] after, int count, string? to, string? from)
    {
        long moved = 0;
        long stray = 0;
        for (var i = 0; i < count; i++)
        {
            if (!ReferenceEquals(before[i], after[i]) && before[i] != after[i])
            {
                moved++;
                if (after[i] != to && before[i] != from)
                {
                    stray++;
                }
            }
        }

        return (moved / (double)count, stray);
    }

    private static int[] Bounded(IKeyRouter router, ulong[] hashes)
    {
        var loads = new int[router.Members.Count];
        long total = 0;
        foreach (var hash in hashes)
        {
            var capacity = (long)Math.Ceiling(LoadFactor * (total + 1) / loads.Length);
            loads[router.Place(hash, loads, capacity)]++;
            total++;
        }

        return loads;
    }

    private static int[] BoundedWithPlacement(List<string> ids, string[] keys)
    {
        var placement = new Placement(new PlacementOptions { BoundedLoadFactor = LoadFactor });
        placement.Update(ids.Select(id => new Backend(id)));
        var held = new List<PlacementLoad>(keys.Length);
        foreach (var key in keys)
        {
            held.Add(placement.Track(placement.Place(key).Backend!.Id));
        }

        var loads = ids.Select(placement.LoadOn).ToArray();
        foreach (var handle in held)
        {
            handle.Dispose();
        }

        return loads;
    }
}
