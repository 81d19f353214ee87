using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Isolation;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Passthrough;

/// <summary>
/// <c>buildpool gateway --mode passthrough</c>: routes TLS connections by their SNI without
/// terminating TLS, for builders that terminate (m)TLS themselves. Each connection's
/// ClientHello is read (never answered), the first label of its server name under the routing
/// domain is the key, the same <see cref="Placement"/> as the gRPC gateway picks the builder,
/// and from then on bytes are spliced both ways, the hello replayed first. The gateway sees no
/// HTTP/2 and no gRPC, so only the SNI can be a key; a connection is one build for the load
/// accounting while it is open.
/// </summary>
public sealed class PassthroughServer : IAsyncDisposable, IBackendTarget
{
    // TLS alerts (RFC 8446 6.2), sent in the clear before the builder ever saw the connection,
    // so the client reports a TLS error rather than an unexplained reset.
    private const byte AlertInternalError = 80;
    private const byte AlertDecodeError = 50;
    private const byte AlertAccessDenied = 49;

    private static readonly KeyValuePair<string, object?> Upstream = new("direction", "upstream");
    private static readonly KeyValuePair<string, object?> Downstream = new("direction", "downstream");

    private readonly GatewayOptions _options;
    private readonly GatewayServices _services;
    private readonly PassthroughOptions _passthrough;
    private readonly Socket _listener;
    private readonly ILogger _logger;
    private readonly PassthroughMetrics _metrics;
    private readonly ConcurrentDictionary<long, Connection> _connections = new();
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _cut = new();
    private FrozenDictionary<string, StaticBackend> _directory = FrozenDictionary<string, StaticBackend>.Empty;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _prober = Task.CompletedTask;
    private long _nextId;
    private int _stopped;

    private PassthroughServer(GatewayOptions options, GatewayServices services, PassthroughOptions passthrough, ILoggerFactory? loggers, IMeterFactory? meters)
    {
        _options = options;
        _services = services;
        _passthrough = passthrough;
        _logger = (ILogger?)loggers?.CreateLogger<PassthroughServer>() ?? NullLogger.Instance;
        _metrics = new PassthroughMetrics(meters);
        Placement = new Placement(
            new PlacementOptions { BoundedLoadFactor = options.BoundedLoadFactor, MinimumLoadBound = options.MinimumLoadBound, Mode = options.Mode });
        Circuits = new BackendCircuits(Placement, options.CircuitFailureThreshold);
        Isolation = new IsolationPolicy(options.UntrustedKeys);
        _listener = new Socket(options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
    }

    /// <summary>Where the gateway listens (the real port when <see cref="GatewayOptions.Listen"/> asked for 0).</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    public Placement Placement { get; }

    /// <summary>
    /// Untrusted routing keys (<c>--untrusted-key</c>, or the pool's <c>spec.routing.untrustedKeys</c>).
    /// A spliced connection cannot be sent to an isolated fork, so such connections are refused:
    /// they never reach a builder that trusted builds use. Client identities are invisible here
    /// (TLS is not terminated), so identity-based untrust does not apply in this mode.
    /// </summary>
    public IsolationPolicy Isolation { get; }

    public BackendCircuits Circuits { get; }

    /// <summary>True while some builder takes connections (the <c>/readyz</c> answer).</summary>
    public bool IsReady => Placement.Backends.Any(b => b.State == BackendState.Ready);

    /// <summary>Connections accepted and not yet closed (reading their hello, or spliced).</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>
    /// Binds <see cref="GatewayOptions.Listen"/> and starts accepting. Of <paramref name="options"/>
    /// it uses the listen address, builders, domain, placement settings, untrusted keys,
    /// connection limit, circuit settings and shutdown timeout; of <paramref name="services"/>
    /// (default: system clock, static mode) the clock and the builder starter.
    /// </summary>
    public static PassthroughServer Start(
        GatewayOptions options,
        GatewayServices? services = null,
        PassthroughOptions? passthrough = null,
        ILoggerFactory? loggers = null,
        IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        services ??= new GatewayServices();
        passthrough ??= new PassthroughOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(passthrough.MaxHelloBytes, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(passthrough.BufferSize, 1024);
        var server = new PassthroughServer(options, services, passthrough, loggers, meters);
        try
        {
            server.SetBackends(options.Backends);
            server._listener.Bind(options.Listen);
            server._listener.Listen(512);
            var bound = (IPEndPoint)server._listener.LocalEndPoint!;
            server.EndPoint = new IPEndPoint(bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : bound.Address, bound.Port);
            server._acceptLoop = server.AcceptLoopAsync();
            server._prober = new CircuitProber(server.Circuits, server.ProbeAsync, id => PassthroughLog.BackendRecovered(server._logger, id), options.ProbeInterval, services.TimeProvider)
                .RunAsync(server._stopAccepting.Token);
            PassthroughLog.Listening(server._logger, options.Listen.ToString(), options.Backends.Count, options.Domain ?? "(none)");
            return server;
        }
        catch
        {
            server._listener.Dispose();
            server._metrics.Dispose();
            throw;
        }
    }

    /// <summary>Replaces the builder set (static discovery, Kubernetes discovery, tests); open connections stay where they are.</summary>
    public void SetBackends(IEnumerable<StaticBackend> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        var list = backends.ToList();
        Volatile.Write(ref _directory, list.ToFrozenDictionary(b => b.Name, StringComparer.Ordinal));
        Placement.Update(list.Select(b => b.ToBackend()));
    }

    /// <summary>
    /// Stops accepting, lets open connections run until they close or
    /// <see cref="GatewayOptions.ShutdownTimeout"/> passes (or <paramref name="cancellationToken"/>
    /// fires), then cuts the rest.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        // Closed before the first await: once StopAsync is called, new connections are refused.
        _listener.Dispose();
        await _stopAccepting.CancelAsync();
        await _acceptLoop;
        await _prober;

        var open = _connections.Values.Select(c => c.Task).ToArray();
        try
        {
            await Task.WhenAll(open).WaitAsync(_options.ShutdownTimeout, _services.TimeProvider, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            PassthroughLog.ShutdownCut(_logger, _connections.Count);
        }

        await _cut.CancelAsync();
        await Task.WhenAll(open);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _metrics.Dispose();
        _stopAccepting.Dispose();
        _cut.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var stopping = _stopAccepting.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(stopping);
            }
            // StopAsync disposes the listener before it cancels the token (so no connection is
            // accepted after it returns): a pending accept can fail in between, and that is a stop too.
            catch (Exception ex) when ((stopping.IsCancellationRequested || Volatile.Read(ref _stopped) != 0)
                && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // Out of descriptors or a connection reset while queued: keep serving the others.
                PassthroughLog.AcceptFailed(_logger, ex);
                continue;
            }

            if (_options.MaxConnections is { } max && _connections.Count >= max)
            {
                _metrics.Rejected.Add(1, new KeyValuePair<string, object?>("reason", "too_many_connections"));
                client.Dispose();
                continue;
            }

            var connection = new Connection(Interlocked.Increment(ref _nextId), client);
            _connections[connection.Id] = connection;
            connection.Task = RunAsync(connection);
        }
    }

    private async Task RunAsync(Connection connection)
    {
        // Off the accept loop at once: a connection's work never delays the next accept.
        await Task.Yield();
        try
        {
            await HandleAsync(connection);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // A peer went away or the gateway is cutting connections: only this connection ends.
        }
        finally
        {
            connection.Client.Dispose();
            connection.Builder?.Dispose();
            _connections.TryRemove(connection.Id, out _);
        }
    }

    private async Task HandleAsync(Connection connection)
    {
        var client = connection.Client;
        client.NoDelay = true;
        var clientName = client.RemoteEndPoint?.ToString() ?? "?";
        var buffer = ArrayPool<byte>.Shared.Rent(_passthrough.MaxHelloBytes);
        try
        {
            var (hello, read) = await ReadHelloAsync(connection, buffer, clientName);
            if (read == 0)
            {
                return;
            }

            var key = KeyParsers.FromAuthority(hello.ServerName, _options.Domain);
            if (Isolation.UntrustedBecause(key, identity: null) is { } untrusted)
            {
                await RejectAsync(connection, clientName, "untrusted: " + untrusted, AlertAccessDenied);
                return;
            }

            var decision = await PlaceAsync(key);
            if (decision.Backend is not { State: BackendState.Ready } backend || Endpoint(backend.Id) is not { } endpoint)
            {
                await RejectAsync(connection, clientName, "no_builder", AlertInternalError);
                return;
            }

            // Counted from the decision on, so connections opening at once see each other's load.
            using var load = Placement.Track(backend.Id);
            _services.BuilderStarter?.Used(backend.Id);
            if (!await ConnectAsync(connection, backend.Id, endpoint))
            {
                await RejectAsync(connection, clientName, "connect_failed", AlertInternalError);
                return;
            }

            var outcome = decision.Outcome.ToString();
            _metrics.ConnectionsRouted.Add(
                1,
                new KeyValuePair<string, object?>("backend", backend.Id),
                new KeyValuePair<string, object?>("key_source", key is null ? "none" : "sni"),
                new KeyValuePair<string, object?>("outcome", outcome));
            PassthroughLog.Routed(_logger, clientName, hello.ServerName ?? "-", key ?? "-", backend.Id, outcome);

            var builderLabel = new KeyValuePair<string, object?>("backend", backend.Id);
            _metrics.ActiveConnections.Add(1, builderLabel);
            try
            {
                // The hello (and anything the client sent right behind it) goes first, unchanged.
                await connection.Builder!.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _cut.Token);
                _metrics.BytesSpliced.Add(read, Upstream);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
                await SpliceAsync(connection, clientName, backend.Id, read);
            }
            finally
            {
                _metrics.ActiveConnections.Add(-1, builderLabel);
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    // Reads until the ClientHello is complete; returns 0 bytes when the connection was closed
    // (and already reported) instead.
    private async Task<(TlsClientHello Hello, int Read)> ReadHelloAsync(Connection connection, byte[] buffer, string clientName)
    {
        var limit = _passthrough.MaxHelloBytes;
        using var timeout = new CancellationTokenSource(_passthrough.HelloTimeout, _services.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _cut.Token);
        var read = 0;
        try
        {
            while (true)
            {
                var received = await connection.Client.ReceiveAsync(buffer.AsMemory(read, limit - read), SocketFlags.None, linked.Token);
                if (received == 0)
                {
                    Count(clientName, "closed_before_hello");
                    return default;
                }

                read += received;
                if (TlsClientHelloParser.TryParse(buffer.AsSpan(0, read), out var hello, limit))
                {
                    return (hello, read);
                }

                if (read == limit)
                {
                    // The parser refuses hellos over the limit itself; this only guards the buffer.
                    throw new TlsClientHelloException($"Malformed TLS ClientHello: larger than {limit} bytes.");
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_cut.IsCancellationRequested)
        {
            Count(clientName, "hello_timeout");
            return default;
        }
        catch (TlsClientHelloException ex)
        {
            await RejectAsync(connection, clientName, "malformed_hello: " + ex.Message, AlertDecodeError);
            return default;
        }
    }

    private async Task<PlacementDecision> PlaceAsync(string? key)
    {
        var starter = _services.BuilderStarter;
        if (key is null)
        {
            return (await KeylessPlacement.PlaceAsync(Placement, starter)).Placed;
        }

        var decision = Placement.Place(key);
        // Worth waiting for, as for a build: its cache is what the connection came for.
        if (starter is not null && BuildRouter.WaitsForStart(decision))
        {
            await starter.WaitForBuilderAsync(Placement, key, decision);
            decision = Placement.Place(key);
        }

        return decision.NeedsStart ? Placement.Place(key, allowStopped: false) : decision;
    }

    private async Task<bool> ConnectAsync(Connection connection, string backendId, DnsEndPoint endpoint)
    {
        var builder = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        connection.Builder = builder;
        using var timeout = new CancellationTokenSource(_passthrough.ConnectTimeout, _services.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _cut.Token);
        try
        {
            await builder.ConnectAsync(_options.Upstream.Resolve?.Invoke(endpoint) ?? endpoint, linked.Token);
            Circuits.RecordSuccess(backendId);
            return true;
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !_cut.IsCancellationRequested))
        {
            PassthroughLog.ConnectFailed(_logger, backendId, $"{endpoint.Host}:{endpoint.Port}", ex);
            Circuits.RecordFailure(backendId);
            return false;
        }
    }

    private async Task SpliceAsync(Connection connection, string clientName, string backendId, int replayed)
    {
        var up = PumpAsync(connection, connection.Client, connection.Builder!, Upstream);
        var down = PumpAsync(connection, connection.Builder!, connection.Client, Downstream);
        var bytes = await Task.WhenAll(up, down);
        PassthroughLog.Ended(_logger, clientName, backendId, bytes[0] + replayed, bytes[1]);
    }

    // One direction: a clean end of input is passed on as a half-close (the other direction
    // keeps running, as TLS close_notify exchanges need); a failure ends both directions.
    private async Task<long> PumpAsync(Connection connection, Socket from, Socket to, KeyValuePair<string, object?> direction)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_passthrough.BufferSize);
        var total = 0L;
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _cut.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return total;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _cut.Token);
                total += read;
                _metrics.BytesSpliced.Add(read, direction);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A reset on one side resets the other: closing both wakes the other pump too.
            connection.Client.Close(0);
            connection.Builder!.Close(0);
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RejectAsync(Connection connection, string clientName, string reason, byte alert)
    {
        Count(clientName, reason);
        try
        {
            // A fatal alert record: content type 21, TLS 1.2 record version, level 2 (fatal).
            byte[] record = [21, 3, 3, 0, 2, 2, alert];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), _services.TimeProvider);
            await connection.Client.SendAsync(record, SocketFlags.None, timeout.Token);
            connection.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone already.
        }
    }

    private void Count(string clientName, string reason)
    {
        var label = reason.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 ? reason[..colon] : reason;
        _metrics.Rejected.Add(1, new KeyValuePair<string, object?>("reason", label));
        PassthroughLog.Rejected(_logger, clientName, reason);
    }

    private DnsEndPoint? Endpoint(string backendId) =>
        Volatile.Read(ref _directory).TryGetValue(backendId, out var backend) ? backend.EndPoint : null;

    // A builder whose circuit opened gets a plain connect now and then (CircuitProber).
    private async Task<bool> ProbeAsync(string backendId, CancellationToken cancellationToken)
    {
        if (Endpoint(backendId) is not { } endpoint)
        {
            return false;
        }

        using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await probe.ConnectAsync(_options.Upstream.Resolve?.Invoke(endpoint) ?? endpoint, cancellationToken);
        return true;
    }

    private sealed class Connection(long id, Socket client)
    {
        public long Id { get; } = id;

        public Socket Client { get; } = client;

        public Socket? Builder { get; set; }

        public Task Task { get; set; } = Task.CompletedTask;
    }
}
