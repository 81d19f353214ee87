namespace BuildPool.Operator.Signals;

/// <summary>What the gateway asked for one volume, read from the pool's signal Lease (<see cref="PoolSignals"/>).</summary>
/// <param name="Start">When a build last waited for its stopped builder.</param>
/// <param name="Used">When a build last used it.</param>
/// <param name="ForksWanted">Overflow forks wanted (0 for none).</param>
/// <param name="ForksWantedAt">When <paramref name="ForksWanted"/> was last written.</param>
/// <param name="Isolated">Untrusted builds that need an isolated fork of it, each with when it asked.</param>
public sealed record VolumeSignals(DateTime? Start, DateTime? Used, int ForksWanted, DateTime? ForksWantedAt, IReadOnlyDictionary<string, DateTime> Isolated)
{
    /// <summary>No signal: what a volume without gateway traffic (or a pool without a Lease yet) has.</summary>
    public static VolumeSignals None { get; } = new(null, null, 0, null, new Dictionary<string, DateTime>(StringComparer.Ordinal));
}
