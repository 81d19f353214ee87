namespace BuildPool.Operator.Forks;

/// <summary>Whether a fork's claim can be a CSI clone of its base's, and if not, why.</summary>
/// <param name="CanClone">True: the fork's PVC names the base PVC as its dataSource.</param>
/// <param name="Reason">Why not, shown in the fork's Seeded condition.</param>
public sealed record ForkSeed(bool CanClone, string? Reason)
{
    public static readonly ForkSeed Cloned = new(true, null);
}
