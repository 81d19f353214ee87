using BuildPool.BuildKit.Protocol;

namespace BuildPool.Operator.Volumes;

/// <summary>What a volume's daemon answered when asked once in a reconcile.</summary>
/// <param name="ActiveBuilds">Builds running on it; null when it did not say (then nobody could finish them).</param>
/// <param name="Workers">Its worker count.</param>
/// <param name="Version">Its BuildKit version, or "unknown".</param>
/// <param name="Usage">Its disk usage records.</param>
/// <param name="Error">Why it could not be asked; null when every call answered.</param>
public sealed record BuilderProbe(int? ActiveBuilds, int Workers, string Version, IReadOnlyList<UsageRecord> Usage, string? Error = null)
{
    public static BuilderProbe Unreachable(int? activeBuilds, string error) => new(activeBuilds, 0, "unknown", [], error);
}
