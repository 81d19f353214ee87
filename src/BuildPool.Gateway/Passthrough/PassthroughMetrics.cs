using System.Diagnostics.Metrics;
using BuildPool.Gateway.Server;

namespace BuildPool.Gateway.Passthrough;

/// <summary>
/// Passthrough instruments on the gateway's meter (<see cref="GatewayMetrics.MeterName"/>), so
/// the same Prometheus endpoint shows them.
/// </summary>
public sealed class PassthroughMetrics : IDisposable
{
    private readonly bool _ownsMeter;

    public PassthroughMetrics(IMeterFactory? meterFactory = null)
    {
        if (meterFactory is null)
        {
            Meter = new Meter(GatewayMetrics.MeterName);
            _ownsMeter = true;
        }
        else
        {
            Meter = meterFactory.Create(GatewayMetrics.MeterName);
        }

        ConnectionsRouted = Meter.CreateCounter<long>(
            "buildpool_gateway_passthrough_connections",
            description: "TLS connections routed by SNI, by backend, key source (sni or none) and placement outcome.");
        ActiveConnections = Meter.CreateUpDownCounter<long>(
            "buildpool_gateway_passthrough_active_connections",
            description: "Spliced connections open now, by backend.");
        BytesSpliced = Meter.CreateCounter<long>(
            "buildpool_gateway_passthrough_bytes",
            unit: "By",
            description: "Bytes spliced, by direction (upstream = client to builder).");
        Rejected = Meter.CreateCounter<long>(
            "buildpool_gateway_passthrough_rejected",
            description: "Connections closed before reaching a builder, by reason.");
    }

    public Meter Meter { get; }

    public Counter<long> ConnectionsRouted { get; }

    public UpDownCounter<long> ActiveConnections { get; }

    public Counter<long> BytesSpliced { get; }

    public Counter<long> Rejected { get; }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
