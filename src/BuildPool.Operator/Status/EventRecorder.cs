using System.Globalization;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Status;

/// <summary>
/// Writes Kubernetes Events (core/v1) for state changes a person should see in
/// <c>kubectl describe</c>. An Event that cannot be written is logged and dropped: events are
/// for people, and must never fail or retry a reconcile. The same Event again (object, type,
/// reason and message) within <see cref="AggregationWindow"/> raises the count and
/// lastTimestamp of the one written before, as client-go's event correlator does, instead of
/// adding an object each time.
/// </summary>
public sealed partial class EventRecorder(ResourceClient<Corev1Event> events, TimeProvider time, ILogger<EventRecorder> logger)
{
    public const string Component = "buildpool-operator";

    /// <summary>How long an Event is raised again rather than written anew (client-go keeps ten minutes).</summary>
    public static readonly TimeSpan AggregationWindow = TimeSpan.FromMinutes(10);

    // Bounded: the oldest entries go first once it is full; losing one only means a new Event object.
    private const int Remembered = 4096;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string? Uid, string Type, string Reason, string Message), (string Name, int Count, DateTime First, DateTime Last)> _recent = [];

    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> regarding, string type, string reason, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(regarding);
        var now = StatusClock.Now(time);
        var key = (regarding.Metadata.Uid, type, reason, message);
        if (Previous(key, now) is { } previous && await RaiseAsync(regarding, key, previous, now, cancellationToken))
        {
            return;
        }

        var ev = new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta
            {
                Name = $"{regarding.Metadata.Name}.{now.Ticks.ToString("x", CultureInfo.InvariantCulture)}{Random.Shared.Next(0x1000):x3}",
                NamespaceProperty = regarding.Metadata.NamespaceProperty,
            },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = regarding.ApiVersion,
                Kind = regarding.Kind,
                Name = regarding.Metadata.Name,
                NamespaceProperty = regarding.Metadata.NamespaceProperty,
                Uid = regarding.Metadata.Uid,
                ResourceVersion = regarding.Metadata.ResourceVersion,
            },
            Type = type,
            Reason = reason,
            Message = message,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = Component,
        };
        try
        {
            await events.CreateAsync(ev, cancellationToken);
            Remember(key, (ev.Metadata.Name, 1, now, now));
        }
        catch (KubernetesApiException ex)
        {
            Log.EventDropped(logger, reason, regarding.Metadata.Name, ex.Message);
        }
    }

    /// <summary>
    /// Events for the transitions a person acts on: the object became Ready, lost Ready, or its
    /// spec stalled. Progress on the way to a first Ready is its normal path and stays in status.
    /// </summary>
    /// <param name="regarding">The object the conditions are on.</param>
    /// <param name="before">Its conditions before this reconcile.</param>
    /// <param name="decided">What this reconcile decided.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task RecordTransitionAsync(IKubernetesObject<V1ObjectMeta> regarding, IEnumerable<V1Condition>? before, Outcome decided, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decided);
        var wasReady = Conditions.IsTrue(before, Conditions.Ready);
        if (decided.State == OutcomeState.Stalled && !Conditions.IsTrue(before, Conditions.Stalled))
        {
            await RecordAsync(regarding, "Warning", decided.Reason, decided.Message, cancellationToken);
        }
        else if (decided.State == OutcomeState.Ready && !wasReady)
        {
            await RecordAsync(regarding, "Normal", decided.Reason, decided.Message, cancellationToken);
        }
        else if (decided.State == OutcomeState.Progressing && wasReady)
        {
            await RecordAsync(regarding, "Warning", decided.Reason, decided.Message, cancellationToken);
        }
    }

    private (string Name, int Count, DateTime First, DateTime Last)? Previous((string?, string, string, string) key, DateTime now)
    {
        lock (_gate)
        {
            return _recent.TryGetValue(key, out var previous) && now - previous.Last < AggregationWindow ? previous : null;
        }
    }

    /// <summary>Raises the earlier Event's count; false when it is gone (expired or deleted), so a new one is written.</summary>
    private async Task<bool> RaiseAsync(IKubernetesObject<V1ObjectMeta> regarding, (string?, string, string, string) key, (string Name, int Count, DateTime First, DateTime Last) previous, DateTime now, CancellationToken cancellationToken)
    {
        var count = previous.Count + 1;
        try
        {
            await events.PatchAsync(regarding.Metadata.NamespaceProperty, previous.Name, new { count, lastTimestamp = now }, cancellationToken);
            Remember(key, previous with { Count = count, Last = now });
            return true;
        }
        catch (NotFoundException)
        {
            return false;
        }
        catch (KubernetesApiException ex)
        {
            Log.EventDropped(logger, key.Item3, regarding.Metadata.Name, ex.Message);
            return true;
        }
    }

    private void Remember((string?, string, string, string) key, (string Name, int Count, DateTime First, DateTime Last) value)
    {
        lock (_gate)
        {
            if (_recent.Count >= Remembered && !_recent.ContainsKey(key))
            {
                _recent.Remove(_recent.MinBy(e => e.Value.Last).Key);
            }

            _recent[key] = value;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Event {Reason} for {Name} not recorded: {Error}")]
        public static partial void EventDropped(ILogger logger, string reason, string name, string error);
    }
}
