using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace BuildPool.Runtime.Metrics;

/// <summary>
/// The runtime's instruments, named like controller-runtime's so existing dashboards and alerts
/// keep working when scraped through OpenTelemetry's Prometheus exporter.
/// </summary>
/// <remarks>
/// One instance owns one <see cref="Meter"/>. Hosts pass their <see cref="IMeterFactory"/> so the
/// meter is shared and disposed with the container; tests create their own instance and listen
/// only to that meter, which keeps parallel tests from seeing each other's measurements.
/// </remarks>
public sealed class RuntimeMetrics : IDisposable
{
    public const string MeterName = "BuildPool.Runtime";

    private readonly bool _ownsMeter;

    public RuntimeMetrics(IMeterFactory? meterFactory = null)
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

        ReconcileTotal = Meter.CreateCounter<long>(
            "controller_runtime_reconcile_total",
            description: "Total number of reconciliations per controller, by result.");
        ReconcileErrors = Meter.CreateCounter<long>(
            "controller_runtime_reconcile_errors_total",
            description: "Total number of reconciliation errors per controller.");
        ReconcileTime = Meter.CreateHistogram<double>(
            "controller_runtime_reconcile_time_seconds",
            unit: "s",
            description: "Length of time per reconciliation per controller.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HistogramBuckets.ReconcileTime });
        ActiveWorkers = Meter.CreateUpDownCounter<long>(
            "controller_runtime_active_workers",
            description: "Number of currently used workers per controller.");
        WorkqueueDepth = Meter.CreateUpDownCounter<long>(
            "workqueue_depth",
            description: "Current depth of the work queue.");
        WorkqueueAdds = Meter.CreateCounter<long>(
            "workqueue_adds_total",
            description: "Total number of adds handled by the work queue.");
        WorkqueueQueueDuration = Meter.CreateHistogram<double>(
            "workqueue_queue_duration_seconds",
            unit: "s",
            description: "How long an item stays in the work queue before being requested.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HistogramBuckets.Workqueue });
        WorkqueueWorkDuration = Meter.CreateHistogram<double>(
            "workqueue_work_duration_seconds",
            unit: "s",
            description: "How long processing an item from the work queue takes.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HistogramBuckets.Workqueue });
        WorkqueueRetries = Meter.CreateCounter<long>(
            "workqueue_retries_total",
            description: "Total number of retries handled by the work queue.");
        Meter.CreateObservableGauge(
            "workqueue_unfinished_work_seconds",
            () => _queues.Select(q => new Measurement<double>(q.Value().Unfinished, new KeyValuePair<string, object?>("name", q.Key))),
            unit: "s",
            description: "Seconds of work in progress not yet observed by work_duration; large values mean stuck workers.");
        Meter.CreateObservableGauge(
            "workqueue_longest_running_processor_seconds",
            () => _queues.Select(q => new Measurement<double>(q.Value().Longest, new KeyValuePair<string, object?>("name", q.Key))),
            unit: "s",
            description: "How long the longest-running worker of the queue has held its key.");
        Meter.CreateObservableGauge(
            "controller_runtime_max_concurrent_reconciles",
            () => _workers.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>("controller", c.Key))),
            description: "Maximum number of concurrent reconciles per controller.");
        LeaderElectionStatus = Meter.CreateUpDownCounter<long>(
            "leader_election_master_status",
            description: "1 while this instance is the leader of the named lease, 0 otherwise.");
    }

    private readonly ConcurrentDictionary<string, Func<(double Unfinished, double Longest)>> _queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _workers = new(StringComparer.Ordinal);

    public Meter Meter { get; }

    /// <summary>Reports a queue's work in progress (seconds held, summed and longest) when metrics are collected.</summary>
    public void TrackQueue(string name, Func<(double Unfinished, double Longest)> inProgress) => _queues[name] = inProgress;

    /// <summary>Reports a controller's worker count as <c>controller_runtime_max_concurrent_reconciles</c>.</summary>
    public void TrackWorkers(string controller, int workers) => _workers[controller] = workers;

    /// <summary>Tags: <c>controller</c>, <c>result</c> (success, error, requeue, requeue_after, conflict, gone).</summary>
    public Counter<long> ReconcileTotal { get; }

    /// <summary>Tags: <c>controller</c>. Conflicts are not errors and are not counted here.</summary>
    public Counter<long> ReconcileErrors { get; }

    /// <summary>Tags: <c>controller</c>.</summary>
    public Histogram<double> ReconcileTime { get; }

    /// <summary>Tags: <c>controller</c>.</summary>
    public UpDownCounter<long> ActiveWorkers { get; }

    /// <summary>Tags: <c>name</c> (the queue, which is named after its controller).</summary>
    public UpDownCounter<long> WorkqueueDepth { get; }

    /// <summary>Tags: <c>name</c>.</summary>
    public Counter<long> WorkqueueAdds { get; }

    /// <summary>Tags: <c>name</c>.</summary>
    public Histogram<double> WorkqueueQueueDuration { get; }

    /// <summary>Tags: <c>name</c>.</summary>
    public Histogram<double> WorkqueueWorkDuration { get; }

    /// <summary>Tags: <c>name</c>.</summary>
    public Counter<long> WorkqueueRetries { get; }

    /// <summary>Tags: <c>name</c> (the lease).</summary>
    public UpDownCounter<long> LeaderElectionStatus { get; }

    public void Dispose()
    {
        // A factory-created meter belongs to the factory, which disposes it with the container.
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
