using System.Collections.Concurrent;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Builds;

// What the gateway tells about builds: the running builds and queue wait as metrics, and per
// Solve ref one summary (the per-build log line, step metrics, the last finished builds), written
// once when its build ends or is forgotten.
internal sealed class BuildReports(TimeProvider time, GatewayMetrics? metrics, ILogger logger)
{
    private const int RecentCapacity = 1024;

    private readonly ConcurrentQueue<BuildSummary> _recent = new();

    public IReadOnlyList<BuildSummary> Recent => [.. _recent];

    public void Admitted(RefRecord? record, AdmissionLease lease)
    {
        if (record is not null)
        {
            record.QueueWait = lease.QueueWait;
        }

        metrics?.QueueWait.Record(lease.QueueWait.TotalSeconds);
        metrics?.ActiveBuilds.Add(1, new KeyValuePair<string, object?>("backend", lease.BackendId));
    }

    public void Forwarding(RefRecord? record)
    {
        if (record is not null)
        {
            record.SolveForwarded = time.GetTimestamp();
        }
    }

    public void SolveEnded(RefRecord? record, SolveTicket? ticket, int grpcStatus)
    {
        if (record is not null)
        {
            record.SolveEnded = time.GetTimestamp();
            record.GrpcStatus = grpcStatus;
        }

        if (ticket is { Admission.IsCompletedSuccessfully: true })
        {
            metrics?.ActiveBuilds.Add(-1, new KeyValuePair<string, object?>("backend", ticket.Admission.Result.BackendId));
        }
    }

    public void Report(BuildUnit unit)
    {
        foreach (var record in unit.Records.Values)
        {
            if (record.Reported || !record.SolveSeen)
            {
                continue;
            }

            record.Reported = true;
            var summary = Summarize(unit, record);
            _recent.Enqueue(summary);
            while (_recent.Count > RecentCapacity && _recent.TryDequeue(out _))
            {
            }

            if (summary.TotalSteps > 0)
            {
                metrics?.Steps.Add(summary.CachedSteps, new KeyValuePair<string, object?>("cached", "true"));
                metrics?.Steps.Add(summary.TotalSteps - summary.CachedSteps, new KeyValuePair<string, object?>("cached", "false"));
            }

            metrics?.BuildDuration.Record(summary.Duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", summary.GrpcStatus == 0 ? "ok" : "failed"));
            BuildLog.BuildEnded(
                logger,
                summary.Ref,
                summary.Tenant ?? "-",
                summary.Key ?? "-",
                summary.KeySource,
                summary.Backend ?? "-",
                summary.Isolation,
                summary.Wait.TotalMilliseconds,
                summary.QueueWait.TotalMilliseconds,
                summary.Duration.TotalMilliseconds,
                summary.CachedSteps,
                summary.TotalSteps,
                summary.GrpcStatus);
        }
    }

    private BuildSummary Summarize(BuildUnit unit, RefRecord record)
    {
        var route = unit.Route;
        var ended = record.SolveEnded != 0 ? record.SolveEnded : time.GetTimestamp();
        var forwarded = record.SolveForwarded != 0 ? record.SolveForwarded : ended;
        return new BuildSummary(
            record.Ref,
            route?.Key?.Value,
            route?.KeySourceLabel ?? "None",
            route?.Backend?.Id,
            time.GetElapsedTime(record.SolveArrived, forwarded),
            record.QueueWait,
            time.GetElapsedTime(record.SolveArrived, ended),
            record.Tally.CachedSteps,
            record.Tally.TotalSteps,
            record.GrpcStatus,
            unit.Origin.Tenant?.Identity)
        {
            // A build on a fork says so in its log line and metrics.
            Isolation = route?.Outcome switch
            {
                PlacementOutcome.Forked => "fork",
                PlacementOutcome.Isolated => "isolated",
                _ => BuildSummary.Trusted,
            },
        };
    }
}
