namespace BuildPool.TestDoubles.Attacks;

/// <summary>What one attack did to a gateway and to the honest builds running beside it.</summary>
public sealed record AttackReport(
    GatewayAttack Attack,
    int Count,
    long IdleResidentBytes,
    long PeakAboveIdleBytes,
    int HonestSucceeded,
    int HonestTotal,
    IReadOnlyList<string> HonestFailures,
    TimeSpan BaselineMedian,
    TimeSpan AttackMedian,
    AttackTally Tally,
    double ActiveBuildsAfter,
    double QueuedBuildsAfter)
{
    /// <summary>Median honest build time under the attack over the median without it, measured side by side.</summary>
    public double LatencyRatio => BaselineMedian > TimeSpan.Zero ? AttackMedian / BaselineMedian : double.NaN;

    public override string ToString() =>
        $"{Attack.Name} x{Count}: gateway +{PeakAboveIdleBytes / (1024 * 1024)} MiB above idle ({IdleResidentBytes / (1024 * 1024)} MiB); "
        + $"honest builds {HonestSucceeded}/{HonestTotal}, median {AttackMedian.TotalMilliseconds:F0} ms vs {BaselineMedian.TotalMilliseconds:F0} ms without the attack ({LatencyRatio:F2}x); "
        + $"after: {ActiveBuildsAfter} active, {QueuedBuildsAfter} queued; attacker: {Tally}"
        + (HonestFailures.Count > 0 ? "; honest failures: " + string.Join(" | ", HonestFailures) : string.Empty);
}
