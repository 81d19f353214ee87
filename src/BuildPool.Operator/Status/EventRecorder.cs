using System.Globalization;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Status;

/// <summary>
/// Writes Kubernetes Events (core/v1) for state changes a person should see in
/// <c>kubectl describe</c>. An Event that cannot be written is logged and dropped: events are
/// for people, and must never fail or retry a reconcile.
/// </summary>
public sealed partial class EventRecorder(ResourceClient<Corev1Event> events, TimeProvider time, ILogger<EventRecorder> logger)
{
    public const string Component = "buildpool-operator";

    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> regarding, string type, string reason, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(regarding);
        var now = StatusClock.Now(time);
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
        }
        catch (KubernetesApiException ex)
        {
            Log.EventDropped(logger, reason, regarding.Metadata.Name, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Event {Reason} for {Name} not recorded: {Error}")]
        public static partial void EventDropped(ILogger logger, string reason, string name, string error);
    }
}
