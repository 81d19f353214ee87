namespace BuildPool.Runtime.Metrics;

/// <summary>
/// Bucket boundaries (seconds) given to every histogram as instrument advice, which
/// OpenTelemetry's exporter honours. Its default (0, 5, 10 … 10,000) puts every reconcile and
/// nearly every queue wait in the first bucket, which makes any quantile query meaningless.
/// </summary>
public static class HistogramBuckets
{
    /// <summary>controller-runtime's <c>controller_runtime_reconcile_time_seconds</c> buckets: 5 ms to 60 s, finest below 1 s.</summary>
    public static readonly IReadOnlyList<double> ReconcileTime =
    [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
        1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
    ];

    /// <summary>client-go's work queue buckets: powers of ten from 10 ns to 1,000 s.</summary>
    public static readonly IReadOnlyList<double> Workqueue = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];

    /// <summary>A build's waits and length: from a millisecond to an hour.</summary>
    public static readonly IReadOnlyList<double> Build =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];
}
