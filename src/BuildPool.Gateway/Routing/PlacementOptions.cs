namespace BuildPool.Gateway.Routing;

/// <summary>A pool's placement settings (from <c>spec.assignment</c> and <c>spec.routing</c>).</summary>
public sealed record PlacementOptions
{
    public AssignmentMode Mode { get; init; } = AssignmentMode.Hashed;

    /// <summary>
    /// c in Mirrokni et al.'s bound: no builder takes a new build once it holds
    /// ⌈c × (total + 1) / n⌉; the build goes to the next builder on the ring instead.
    /// </summary>
    public double BoundedLoadFactor { get; init; } = 1.25;

    /// <summary>
    /// The bound never drops below this many builds per builder. With few builds running,
    /// ⌈c × (total + 1) / n⌉ is 1, so a project's second concurrent build would leave its warm
    /// builder although that builder is nowhere near busy. Once loads are higher the floor no
    /// longer matters (the locality simulation in docs/benchmarks.md, 16 concurrent builds on 8
    /// builders, gives the same hit ratio with 1 or 2). 1 is the pure bound.
    /// </summary>
    public int MinimumLoadBound { get; init; } = 1;

    /// <summary>
    /// Ring points per unit of weight. 160 (ketama's figure) keeps a builder's share of the ring
    /// within about ±8% of fair while the ring stays small (256 builders: 40,960 points, 480 KiB).
    /// </summary>
    public int VirtualNodesPerWeight { get; init; } = 160;
}
