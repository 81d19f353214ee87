using System.Diagnostics.Metrics;

namespace BuildPool.BuildKit.Client;

/// <summary>Outcomes of daemon calls, so retries and failures are visible on /metrics.</summary>
public static class BuildKitMetrics
{
    public const string MeterName = "BuildPool.BuildKit";

    private static readonly Meter Meter = new(MeterName);

    internal static readonly Counter<long> Calls = Meter.CreateCounter<long>(
        "buildpool_buildkit_calls_total", description: "Control API calls to builders by method and outcome (ok, retried, failed).");

    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "buildpool_buildkit_call_duration_seconds", unit: "s", description: "Control API call duration including retries.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
}
