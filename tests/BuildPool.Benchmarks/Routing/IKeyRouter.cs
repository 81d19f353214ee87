namespace BuildPool.Benchmarks.Routing;

/// <summary>
/// A placement algorithm over a fixed member list, in the two forms the scenarios compare:
/// the key's home (no load bound) and the first member of the key's candidate order whose load
/// is under a capacity (bounded loads, Mirrokni et al.).
/// </summary>
internal interface IKeyRouter
{
    string Name { get; }

    /// <summary>Member ids; every index returned refers to this list.</summary>
    IReadOnlyList<string> Members { get; }

    int OwnerOf(ulong hash);

    /// <summary>The first member in the key's order with <c>loads[m] &lt; capacity</c>, else the home.</summary>
    int Place(ulong hash, ReadOnlySpan<int> loads, long capacity);
}
