using System.Diagnostics.Metrics;

namespace BuildPool.Runtime.Client;

/// <summary>Outcomes of API server requests the transport retried, exported with the runtime's other metrics.</summary>
internal static class ClientMetrics
{
    private static readonly Meter Meter = new(Metrics.RuntimeMetrics.MeterName);

    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "rest_client_retries_total", description: "API server requests retried after a transient failure, by verb and reason (status code or connection).");

    internal static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "rest_client_requests_total", description: "API server requests by HTTP status code (<error> when none came back), method and host, as client-go counts them.");
}
