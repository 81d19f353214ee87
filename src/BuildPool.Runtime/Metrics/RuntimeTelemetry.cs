using System.Diagnostics;

namespace BuildPool.Runtime.Metrics;

/// <summary>Tracing for the runtime: one span per reconcile, exported when a host listens to <see cref="SourceName"/>.</summary>
public static class RuntimeTelemetry
{
    public const string SourceName = "BuildPool.Runtime";

    public static ActivitySource ActivitySource { get; } = new(SourceName);
}
