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
    /// Ring points per unit of weight. 160 (ketama's figure) keeps a builder's share of the ring
    /// within about ±8% of fair while the ring stays small (256 builders: 40,960 points, 480 KiB).
    /// </summary>
    public int VirtualNodesPerWeight { get; init; } = 160;
}
