using System.Collections.Frozen;

namespace BuildPool.Gateway.Routing;

// One immutable view of the builders. Placement swaps whole tables, so a decision reads one
// consistent set without locks.
internal sealed class PlacementTable
{
    public PlacementTable(IEnumerable<Backend> backends, int virtualNodesPerWeight, Func<string, BackendLoad> loadOf)
    {
        // Sorting by id makes every replica build the same table whatever order discovery used.
        var sorted = backends
            .GroupBy(b => b.Id, StringComparer.Ordinal)
            .Select(g => g.Last())
            .OrderBy(b => b.Id, StringComparer.Ordinal)
            .ToArray();
        Backends = sorted;
        Loads = [.. sorted.Select(b => loadOf(b.Id))];

        var ringMembers = new List<int>();
        for (var i = 0; i < sorted.Length; i++)
        {
            if (sorted[i].AcceptsHashedKeys)
            {
                ringMembers.Add(i);
                if (sorted[i].State == BackendState.Ready)
                {
                    ReadyRingMembers++;
                }
                else if (sorted[i].State == BackendState.Stopped)
                {
                    StoppedRingMembers++;
                }
            }
        }

        RingMembers = [.. ringMembers];
        Ring = new HashRing([.. ringMembers.Select(i => (sorted[i].Id, sorted[i].Weight))], virtualNodesPerWeight);

        // Two volumes pinning one key: the first by id wins, the same on every replica.
        var owners = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
        {
            foreach (var key in sorted[i].Keys)
            {
                if (!string.IsNullOrEmpty(key))
                {
                    owners.TryAdd(key, i);
                }
            }
        }

        KeyOwners = owners.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public Backend[] Backends { get; }

    public BackendLoad[] Loads { get; }

    public HashRing Ring { get; }

    // Ring member index → index into Backends.
    public int[] RingMembers { get; }

    public int ReadyRingMembers { get; }

    public int StoppedRingMembers { get; }

    public FrozenDictionary<string, int> KeyOwners { get; }
}
