using System.Net;
using BuildPool.Gateway.Tenants;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Server;

/// <summary>
/// The gateway's connection caps, as Kestrel connection middleware: in all, per source address,
/// TLS handshakes in progress, and per tenant (client certificate identity) once the handshake is
/// done. A connection over a cap is closed at once, before HTTP/2 or TLS spend anything on it,
/// counted in <c>buildpool_gateway_refused_connections_total</c> by the limit's flag, and logged.
/// </summary>
/// <remarks>
/// At the handshake cap the oldest handshake in progress is closed to make room, not the new
/// connection: an honest handshake takes milliseconds, so the oldest are the ones that never
/// finish, and clients that stall their handshakes cannot keep everyone else from connecting.
/// </remarks>
internal sealed class ConnectionLimiter
{
    // A refusal is logged at most this often per limit: a flood must not turn into a log flood.
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<GatewayMetrics> _metrics;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _perSource = [];
    private readonly Dictionary<string, int> _perTenant = new(StringComparer.Ordinal);
    private readonly LinkedList<Handshake> _handshakes = new();
    private readonly Dictionary<string, long> _lastLogged = new(StringComparer.Ordinal);
    private long _open;

    /// <param name="metrics">The gateway's instruments (created after Kestrel is configured, so asked for when a refusal is counted).</param>
    public ConnectionLimiter(GatewayOptions options, TimeProvider time, Func<GatewayMetrics> metrics, ILogger logger)
    {
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Outermost: the total and per-source caps, and (with TLS) a place among the handshakes.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next, bool tls)
    {
        var source = SourceOf(connection);
        var handshake = tls ? new Handshake(connection, source) : null;
        var (refusal, evicted) = Enter(source, handshake);
        if (evicted is not null)
        {
            Refuse("--max-tls-handshakes", evicted.Source);
            evicted.Connection.Abort(new ConnectionAbortedException("its TLS handshake was the oldest in progress at the gateway's --max-tls-handshakes"));
        }

        if (refusal is not null)
        {
            // Returning closes the connection, as Kestrel's own connection limit does.
            Refuse(refusal, source);
            return;
        }

        if (handshake is not null)
        {
            connection.Features.Set(handshake);
        }

        try
        {
            await next(connection);
        }
        finally
        {
            if (handshake is not null)
            {
                EndHandshake(handshake);
            }

            Leave(source);
        }
    }

    /// <summary>After TLS: the handshake is over (its place frees) and the tenant's cap applies.</summary>
    public async Task OnHandshakeDoneAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (connection.Features.Get<Handshake>() is { } handshake)
        {
            EndHandshake(handshake);
        }

        var tenant = TenantGate.IdentityOf(connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate);
        if (tenant is null)
        {
            await next(connection);
            return;
        }

        if (!TryEnterTenant(tenant))
        {
            Refuse("--max-connections-per-tenant", SourceOf(connection), tenant);
            return;
        }

        try
        {
            await next(connection);
        }
        finally
        {
            lock (_lock)
            {
                Decrement(_perTenant, tenant);
            }
        }
    }

    private (string? Refusal, Handshake? Evicted) Enter(IPAddress? source, Handshake? handshake)
    {
        lock (_lock)
        {
            if (_options.MaxConnections is { } max && _open >= max)
            {
                return ("--max-connections", null);
            }

            var fromSource = source is null ? 0 : _perSource.GetValueOrDefault(source);
            if (source is not null && fromSource >= _options.MaxConnectionsPerSource)
            {
                return ("--max-connections-per-source", null);
            }

            _open++;
            if (source is not null)
            {
                _perSource[source] = fromSource + 1;
            }

            if (handshake is null)
            {
                return (null, null);
            }

            Handshake? evicted = null;
            if (_handshakes.Count >= _options.MaxPendingTlsHandshakes && _handshakes.First is { } oldest)
            {
                evicted = oldest.Value;
                _handshakes.Remove(oldest);
                evicted.Node = null;
            }

            handshake.Node = _handshakes.AddLast(handshake);
            return (null, evicted);
        }
    }

    private bool TryEnterTenant(string tenant)
    {
        lock (_lock)
        {
            var count = _perTenant.GetValueOrDefault(tenant);
            if (count >= _options.MaxConnectionsPerTenant)
            {
                return false;
            }

            _perTenant[tenant] = count + 1;
            return true;
        }
    }

    private void EndHandshake(Handshake handshake)
    {
        lock (_lock)
        {
            if (handshake.Node is { } node)
            {
                _handshakes.Remove(node);
                handshake.Node = null;
            }
        }
    }

    private void Leave(IPAddress? source)
    {
        lock (_lock)
        {
            _open--;
            if (source is not null)
            {
                Decrement(_perSource, source);
            }
        }
    }

    private void Refuse(string limit, IPAddress? source, string? tenant = null)
    {
        _metrics().RefusedConnections.Add(1, new KeyValuePair<string, object?>("limit", limit));
        if (ShouldLog(limit))
        {
            var client = tenant is null ? source?.ToString() ?? "-" : $"{source?.ToString() ?? "-"} (tenant {tenant})";
            GatewayLog.ConnectionRefused(_logger, client, limit, LimitOf(limit));
        }
    }

    private long LimitOf(string limit) => limit switch
    {
        "--max-connections" => _options.MaxConnections ?? 0,
        "--max-connections-per-source" => _options.MaxConnectionsPerSource,
        "--max-connections-per-tenant" => _options.MaxConnectionsPerTenant,
        _ => _options.MaxPendingTlsHandshakes,
    };

    private bool ShouldLog(string limit)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_lastLogged.TryGetValue(limit, out var last) && _time.GetElapsedTime(last, now) < LogInterval)
            {
                return false;
            }

            _lastLogged[limit] = now;
            return true;
        }
    }

    private static IPAddress? SourceOf(ConnectionContext connection) =>
        connection.RemoteEndPoint is IPEndPoint { Address: var address }
            ? address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address
            : null;

    private static void Decrement<TKey>(Dictionary<TKey, int> counts, TKey key)
        where TKey : notnull
    {
        if (counts.TryGetValue(key, out var count) && count > 1)
        {
            counts[key] = count - 1;
        }
        else
        {
            counts.Remove(key);
        }
    }

    // A connection whose TLS handshake is in progress; Node is its place in line (guarded by the
    // limiter's lock), null once the handshake ended or was closed to make room.
    private sealed class Handshake(ConnectionContext connection, IPAddress? source)
    {
        public ConnectionContext Connection { get; } = connection;

        public IPAddress? Source { get; } = source;

        public LinkedListNode<Handshake>? Node { get; set; }
    }
}
