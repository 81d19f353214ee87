using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BuildPool.Gateway.Server;

/// <summary>
/// The gateway's instruments on the <c>BuildPool.Gateway</c> meter, named for Prometheus
/// (OpenTelemetry's exporter adds <c>_total</c> to counters and the unit suffix to histograms).
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "BuildPool.Gateway";

    /// <summary>The <see cref="ActivitySource"/> of the span per routed build.</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName);

    private readonly bool _ownsMeter;

    public GatewayMetrics(IMeterFactory? meterFactory = null)
    {
        if (meterFactory is null)
        {
            Meter = new Meter(MeterName);
            _ownsMeter = true;
        }
        else
        {
            Meter = meterFactory.Create(MeterName);
        }

        BuildsRouted = Meter.CreateCounter<long>(
            "buildpool_gateway_builds",
            description: "Builds routed, by key source and builder.");
        ActiveBuilds = Meter.CreateUpDownCounter<long>(
            "buildpool_gateway_active_builds",
            description: "Builds holding an admission slot, by builder.");
        QueueWait = Meter.CreateHistogram<double>(
            "buildpool_gateway_queue_wait",
            unit: "s",
            description: "How long builds waited for an admission slot.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Runtime.Metrics.HistogramBuckets.Build });
        BuildDuration = Meter.CreateHistogram<double>(
            "buildpool_gateway_build_duration",
            unit: "s",
            description: "How long builds ran on their builder (Solve forwarded to Solve answered), by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Runtime.Metrics.HistogramBuckets.Build });
        BytesProxied = Meter.CreateCounter<long>(
            "buildpool_gateway_proxied_bytes",
            unit: "By",
            description: "gRPC body bytes proxied, by direction (upstream = client to builder).");
        Errors = Meter.CreateCounter<long>(
            "buildpool_gateway_errors",
            description: "Calls the gateway failed itself, by reason.");
        RefusedCalls = Meter.CreateCounter<long>(
            "buildpool_gateway_refused_calls",
            description: "Calls and TLS handshakes refused for who the client is, by reason (unbound_certificate, tenants_not_synced, untrusted_certificate, client_auth_usage_missing, tenant_queue_timeout, build_limit).");
        RefusedConnections = Meter.CreateCounter<long>(
            "buildpool_gateway_refused_connections",
            description: "Client connections closed at once because a connection limit was reached, by limit (its flag: --max-connections, --max-connections-per-source, --max-connections-per-tenant, --max-tls-handshakes).");
        BuildsIsolated = Meter.CreateCounter<long>(
            "buildpool_gateway_builds_isolated",
            description: "Untrusted builds routed to an isolated fork, by the volume forked.");
        BuildsForked = Meter.CreateCounter<long>(
            "buildpool_gateway_builds_forked",
            description: "Builds routed to an overflow fork of their Private volume, by the volume forked.");
        Steps = Meter.CreateCounter<long>(
            "buildpool_gateway_build_steps",
            description: "Build steps seen on Status streams, by whether the builder had them cached (cache hit ratio = cached=\"true\" / all) and pool.");
        BuildsByFirstMiss = Meter.CreateCounter<long>(
            "buildpool_gateway_build_first_miss",
            description: "Finished builds by the cause of their first cache miss (cold-builder, moved, definition-changed, context-changed, evicted, no-cache, unknown; none when every step was cached) and pool.");
        ExecutedTime = Meter.CreateHistogram<double>(
            "buildpool_gateway_build_executed_time",
            unit: "s",
            description: "Time builds spent in executed (not cached) steps, summed over steps, by pool.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Runtime.Metrics.HistogramBuckets.Build });
    }

    public Meter Meter { get; }

    public Counter<long> BuildsRouted { get; }

    public UpDownCounter<long> ActiveBuilds { get; }

    public Histogram<double> QueueWait { get; }

    /// <summary>Tags: <c>outcome</c> (<c>ok</c> when the Solve's grpc-status was 0, else <c>failed</c>).</summary>
    public Histogram<double> BuildDuration { get; }

    public Counter<long> BytesProxied { get; }

    public Counter<long> Errors { get; }

    /// <summary>Tags: <c>cached</c> (<c>true</c>/<c>false</c>), <c>pool</c>.</summary>
    public Counter<long> Steps { get; }

    /// <summary>Tags: <c>cause</c> (a miss cause label, or <c>none</c>), <c>pool</c> (exported as <c>buildpool_gateway_build_first_miss_total</c>).</summary>
    public Counter<long> BuildsByFirstMiss { get; }

    /// <summary>Tags: <c>pool</c> (exported as <c>buildpool_gateway_build_executed_time_seconds</c>).</summary>
    public Histogram<double> ExecutedTime { get; }

    /// <summary>Refusals for who the client is (see the instrument's description for the reasons).</summary>
    public Counter<long> RefusedCalls { get; }

    /// <summary>Connections closed over a connection limit (exported as <c>buildpool_gateway_refused_connections_total</c>).</summary>
    public Counter<long> RefusedConnections { get; }

    /// <summary>Untrusted builds that ran on an isolated fork (exported as <c>buildpool_gateway_builds_isolated_total</c>).</summary>
    public Counter<long> BuildsIsolated { get; }

    /// <summary>Builds sent to an overflow fork (exported as <c>buildpool_gateway_builds_forked_total</c>).</summary>
    public Counter<long> BuildsForked { get; }

    /// <summary>Queued builds over all builders, read when metrics are collected.</summary>
    public void ObserveQueued(Func<long> queued) =>
        Meter.CreateObservableGauge("buildpool_gateway_queued_builds", queued, description: "Builds waiting for an admission slot.");

    /// <summary>Response bytes upstream connections hold for clients that have not read them yet.</summary>
    public void ObserveUpstreamBuffered(Func<long> buffered) =>
        Meter.CreateObservableGauge(
            "buildpool_gateway_upstream_buffered_bytes",
            buffered,
            unit: "By",
            description: "Response bytes received from builders and not yet taken by their clients (bounded by --upstream-buffer-total).");

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
