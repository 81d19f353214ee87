using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Insight;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Builds;

// What the gateway tells about builds: the running builds and queue wait as metrics, and per
// Solve ref one summary (the per-build log line, step metrics, the last finished builds), written
// once when its build ends or is forgotten, with its first cache miss explained from the key's
// earlier builds (History).
internal sealed class BuildReports(TimeProvider time, GatewayMetrics? metrics, ILogger logger, Placement placement, string? pool)
{
    private const int RecentCapacity = 1024;

    // Only the newest builds keep their steps (for /builds/{id}); older summaries drop them.
    private const int RecentWithSteps = 128;

    private readonly Lock _recentLock = new();
    private readonly List<BuildSummary> _recent = [];
    private readonly KeyValuePair<string, object?> _pool = new("pool", pool ?? "static");

    public IReadOnlyList<BuildSummary> Recent
    {
        get
        {
            lock (_recentLock)
            {
                return [.. _recent];
            }
        }
    }

    public BuildHistory History { get; } = new();

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
            Remember(summary);

            if (summary.TotalSteps > 0)
            {
                metrics?.Steps.Add(summary.CachedSteps, new KeyValuePair<string, object?>("cached", "true"), _pool);
                metrics?.Steps.Add(summary.TotalSteps - summary.CachedSteps, new KeyValuePair<string, object?>("cached", "false"), _pool);
                metrics?.BuildsByFirstMiss.Add(1, new KeyValuePair<string, object?>("cause", summary.FirstMiss?.CauseLabel ?? "none"), _pool);
                metrics?.ExecutedTime.Record(summary.ExecutedTime.TotalSeconds, _pool);
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
                summary.ExecutedTime.TotalMilliseconds,
                summary.FirstMiss?.ToString() ?? "none",
                summary.GrpcStatus);
        }
    }

    private void Remember(BuildSummary summary)
    {
        lock (_recentLock)
        {
            _recent.Add(summary);
            if (_recent.Count > RecentCapacity)
            {
                _recent.RemoveRange(0, _recent.Count - RecentCapacity);
            }

            var older = _recent.Count - RecentWithSteps - 1;
            if (older >= 0 && _recent[older].Steps.Count > 0)
            {
                _recent[older] = _recent[older] with { Steps = [] };
            }
        }
    }

    // The first miss of a build that reached a builder, then the build joins its key's history.
    private (FirstMiss? Miss, IReadOnlyList<BuildKit.Wire.StatusVertex> Steps) Explain(BuildUnit unit, RefRecord record, DateTimeOffset endedAt)
    {
        var steps = record.Tally.Vertexes;
        if (unit.Route is not { Backend: { } backend } route || steps.Count == 0)
        {
            return (null, steps);
        }

        var key = route.Key?.Value;
        var history = key is null ? [] : History.Of(key);
        var why = history.Count > 0 && history[0].Builder != backend.Id ? WhyNotOn(history[0].Builder, route) : null;
        var miss = MissClassifier.Classify(new MissFacts(steps, backend.Id, key, unit.Solve?.NoCache, history, why, History.PrunesOf(backend.Id)));
        if (key is not null)
        {
            History.Add(key, new PastBuild(record.Ref, backend.Id, endedAt, steps));
        }

        return (miss, steps);
    }

    // Why the builder of the key's last build did not take this one, as far as placement knows.
    private string? WhyNotOn(string previous, BuildRoute route)
    {
        if (route.Outcome == PlacementOutcome.Isolated)
        {
            return "this untrusted build ran on an isolated fork of its own";
        }

        if (route.Outcome == PlacementOutcome.Forked && route.Backend?.ForkOf == previous)
        {
            return $"{previous} was full; this build ran on an overflow fork of it";
        }

        var builder = placement.Backends.FirstOrDefault(b => b.Id == previous);
        return builder?.State switch
        {
            null => $"{previous} is no longer in the pool",
            BackendState.Draining => $"{previous} is draining",
            BackendState.Unavailable => $"{previous} is down (unreachable, or its circuit is open)",
            BackendState.Stopped => $"{previous} is stopped (scaled to zero)",
            _ when route.Outcome == PlacementOutcome.Spilled => $"{previous} was full (at its bounded load; the build spilled to the next builder on the ring)",
            _ => null,
        };
    }

    private BuildSummary Summarize(BuildUnit unit, RefRecord record)
    {
        var route = unit.Route;
        var ended = record.SolveEnded != 0 ? record.SolveEnded : time.GetTimestamp();
        var forwarded = record.SolveForwarded != 0 ? record.SolveForwarded : ended;
        var endedAt = time.GetUtcNow();
        var (miss, steps) = Explain(unit, record, endedAt);
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
            EndedAt = endedAt,
            FirstMiss = miss,
            ExecutedTime = MissClassifier.ExecutedTime(steps),
            Steps = steps.Count > BuildHistory.MaxSteps ? [.. steps.Take(BuildHistory.MaxSteps)] : steps,
        };
    }
}
