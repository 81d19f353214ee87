using System.Diagnostics.Metrics;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Hosting;

/// <summary>
/// Pool metrics (meter <c>BuildPool.Operator</c>), beside the runtime's controller-runtime-style
/// ones. Gauges read the informer caches when scraped, so they cost nothing between scrapes and
/// always agree with what <c>kubectl get</c> shows.
/// </summary>
public sealed class OperatorMetrics : IDisposable
{
    public const string MeterName = "BuildPool.Operator";

    private readonly Meter _meter;

    public OperatorMetrics(OperatorCaches caches, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(caches);
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableGauge("buildpool_pool_builders", () => PerPool(caches, p => p.Status.Builders),
            description: "Builders running (Ready, Starting or Draining) per pool.");
        _meter.CreateObservableGauge("buildpool_pool_builders_ready", () => PerPool(caches, p => p.Status.ReadyBuilders),
            description: "Builders ready to take builds per pool.");
        _meter.CreateObservableGauge("buildpool_pool_volumes", () => PerPool(caches, p => p.Status.Volumes),
            description: "Cache volumes per pool.");
        _meter.CreateObservableGauge("buildpool_pool_ready", () => PerPool(caches, p => p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True") ? 1 : 0),
            description: "1 when the pool's Ready condition is True.");
        _meter.CreateObservableGauge("buildpool_volume_used_bytes", () => PerVolume(caches, v => v.Status.UsedBytes ?? 0),
            unit: "By", description: "Bytes BuildKit reports in use on the volume (DiskUsage).");
        _meter.CreateObservableGauge("buildpool_volume_capacity_bytes", () => PerVolume(caches, v => Capacity(caches, v)),
            unit: "By", description: "Requested size of the volume's claim.");
        _meter.CreateObservableGauge("buildpool_volume_active_builds", () => PerVolume(caches, v => v.Status.ActiveBuilds),
            description: "Builds running on the volume's builder.");
        _meter.CreateObservableGauge("buildpool_volume_full", () => PerVolume(caches, v => v.Status.Conditions.Any(c => c.Type == "CacheVolumeFull" && c.Status == "True") ? 1 : 0),
            description: "1 when the volume is full and cannot grow.");
        _meter.CreateObservableGauge("buildpool_volume_phase", () => Phases(caches),
            description: "1 for the volume's current phase (label phase).");
        Prunes = _meter.CreateCounter<long>("buildpool_prunes_total", description: "Targeted prunes the operator ran, by pool.");
        FreedBytes = _meter.CreateCounter<long>("buildpool_pruned_bytes_total", unit: "By", description: "Bytes freed by targeted prunes, by pool.");
        Grown = _meter.CreateCounter<long>("buildpool_volume_grown_total", description: "Volume expansions by auto-grow, by pool.");
    }

    /// <summary>
    /// Whether this replica exports the pool and volume gauges: only the leader does (set by
    /// <see cref="BuildPoolOperator.Create"/>), so a dashboard's <c>sum by (pool)</c> counts each
    /// pool once however many replicas run. Standbys' caches hold the same objects.
    /// </summary>
    public Func<bool> Exporting { get; set; } = () => true;

    public Counter<long> Prunes { get; }

    public Counter<long> FreedBytes { get; }

    public Counter<long> Grown { get; }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> PerPool(OperatorCaches caches, Func<BuilderPool, long> value) =>
        !Exporting() ? [] : caches.Pools.Cache.List().Select(p => new Measurement<long>(value(p),
            new KeyValuePair<string, object?>("namespace", p.Metadata.NamespaceProperty),
            new KeyValuePair<string, object?>("pool", p.Metadata.Name)));

    private IEnumerable<Measurement<long>> PerVolume(OperatorCaches caches, Func<CacheVolume, long> value) =>
        !Exporting() ? [] : caches.Volumes.Cache.List().Select(v => new Measurement<long>(value(v), VolumeTags(v)));

    private IEnumerable<Measurement<long>> Phases(OperatorCaches caches) =>
        !Exporting() ? [] : caches.Volumes.Cache.List().Where(v => v.Status.Phase is not null).Select(v => new Measurement<long>(1,
            [.. VolumeTags(v), new KeyValuePair<string, object?>("phase", v.Status.Phase.ToString())]));

    private static KeyValuePair<string, object?>[] VolumeTags(CacheVolume v) =>
    [
        new("namespace", v.Metadata.NamespaceProperty),
        new("pool", v.Spec.Pool),
        new("volume", v.Metadata.Name),
    ];

    private static long Capacity(OperatorCaches caches, CacheVolume v)
    {
        var claim = caches.Claims.Cache.Get(v.Metadata.NamespaceProperty, Naming.ResourceNames.StateClaim(v.Metadata.Name));
        var text = claim?.Spec?.Resources?.Requests is { } r && r.TryGetValue("storage", out var q) ? q.ToString() : null;
        return text is not null && Quantity.TryParse(text, out var bytes, out _) ? bytes : 0;
    }
}
