using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Http2;

/// <summary>
/// A few HTTP/2 connections per backend. Streams go to the least-loaded connection with room
/// under the peer's SETTINGS_MAX_CONCURRENT_STREAMS; another connection opens when all are
/// full (one connect at a time per backend), up to <see cref="Http2ClientPoolOptions.MaxConnectionsPerBackend"/>.
/// Connections that received GOAWAY or failed are retired: they finish their streams and are
/// disposed once idle. The pool owns every task it starts and awaits them on dispose.
/// </summary>
public sealed class Http2ClientPool : IAsyncDisposable
{
    private readonly Http2ClientPoolOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<DnsEndPoint, Backend> _backends = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly List<Task> _closing = [];
    private int _disposed;

    public Http2ClientPool(Http2ClientPoolOptions? options = null, ILogger<Http2ClientPool>? logger = null)
    {
        _options = options ?? new Http2ClientPoolOptions();
        _options.Connection.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxConnectionsPerBackend, 1);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The <c>:scheme</c> for requests through this pool.</summary>
    public string Scheme => _options.Scheme;

    /// <summary>
    /// Starts a stream to <paramref name="backend"/>. Retries on another connection when the
    /// chosen one turned out to refuse new streams (GOAWAY, failure) before our HEADERS were sent.
    /// </summary>
    /// <exception cref="Http2ConnectionException">No connection could be opened or used; the request was not sent.</exception>
    public async Task<Http2ClientStream> StartStreamAsync(
        DnsEndPoint backend,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        bool endStream,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var entry = _backends.GetOrAdd(backend, static b => new Backend(b));
        for (var attempt = 0; ; attempt++)
        {
            var (connection, reserved) = await GetConnectionAsync(entry, cancellationToken);
            try
            {
                return reserved
                    ? await connection.StartReservedStreamAsync(headers, endStream)
                    : await StartQueuedStreamAsync(entry, connection, headers, endStream, cancellationToken);
            }
            catch (Http2ConnectionException ex) when (ex.IsRetryable && attempt < 3)
            {
                Retire(entry, connection);
            }
        }
    }

    private async Task<Http2ClientStream> StartQueuedStreamAsync(
        Backend entry,
        Http2ClientConnection connection,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        bool endStream,
        CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(_options.StreamSlotTimeout);
        try
        {
            return await connection.StartStreamAsync(headers, endStream, wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && wait.IsCancellationRequested)
        {
            int connections;
            lock (entry)
            {
                connections = entry.Connections.Count;
            }

            throw new Http2ConnectionException(
                Http2ErrorCode.RefusedStream,
                string.Create(CultureInfo.InvariantCulture, $"{connection.Peer} took no new stream for {_options.StreamSlotTimeout.TotalSeconds:0.###} s: all {connections} connections to it are at its limit of {connection.MaxConcurrentStreams} concurrent streams"));
        }
    }

    /// <summary>Open (not retired) connections to a backend; for tests and metrics.</summary>
    public int GetConnectionCount(DnsEndPoint backend)
    {
        if (!_backends.TryGetValue(backend, out var entry))
        {
            return 0;
        }

        lock (entry)
        {
            return entry.Connections.Count;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _disposing.CancelAsync();
        List<Task> pending = [];
        List<Http2ClientConnection> connections = [];
        foreach (var entry in _backends.Values)
        {
            lock (entry)
            {
                if (entry.PendingConnect is { } connect)
                {
                    pending.Add(connect);
                }

                connections.AddRange(entry.Connections);
                connections.AddRange(entry.Draining);
                entry.Connections.Clear();
                entry.Draining.Clear();
            }
        }

        try
        {
            await Task.WhenAll(pending);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // Connects abandoned because we are shutting down.
        }

        foreach (var entry in _backends.Values)
        {
            lock (entry)
            {
                connections.AddRange(entry.Connections);
                entry.Connections.Clear();
            }
        }

        Task[] closing;
        lock (_closing)
        {
            closing = [.. _closing];
        }

        await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()).Concat(closing));
        _disposing.Dispose();
    }

    /// <summary>
    /// A connection for one new stream. With room on some connection, the stream's slot is taken
    /// here under the backend's lock (<c>reserved</c>): choosing a connection for its free slot
    /// and taking that slot later let many callers pick the same last slot and queue behind a
    /// stream that might never end while the pool could have opened another connection. Only at
    /// the connection limit does the caller queue (not reserved) on the connection that frees up soonest.
    /// </summary>
    private async Task<(Http2ClientConnection Connection, bool Reserved)> GetConnectionAsync(Backend entry, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<Http2ClientConnection> connect;
            lock (entry)
            {
                Sweep(entry);
                Http2ClientConnection? best = null;
                Http2ClientConnection? leastLoaded = null;
                foreach (var connection in entry.Connections)
                {
                    var load = connection.ActiveStreamCount;
                    if (connection.HasCapacity && (best is null || load < best.ActiveStreamCount))
                    {
                        best = connection;
                    }

                    if (leastLoaded is null || load - connection.MaxConcurrentStreams < leastLoaded.ActiveStreamCount - leastLoaded.MaxConcurrentStreams)
                    {
                        leastLoaded = connection;
                    }
                }

                if (best is not null)
                {
                    if (best.TryReserveStreamSlot())
                    {
                        return (best, true);
                    }

                    // It failed or received GOAWAY since we looked: the next sweep retires it.
                    continue;
                }

                if (entry.PendingConnect is null && entry.Connections.Count < _options.MaxConnectionsPerBackend)
                {
                    entry.PendingConnect = ConnectAndRegisterAsync(entry);
                }

                if (entry.PendingConnect is null && leastLoaded is not null)
                {
                    // At the connection limit: queue on the connection that frees up soonest.
                    return (leastLoaded, false);
                }

                connect = entry.PendingConnect!;
            }

            await connect.WaitAsync(cancellationToken);
        }
    }

    private async Task<Http2ClientConnection> ConnectAndRegisterAsync(Backend entry)
    {
        // Leave the caller's lock before doing anything slow.
        await Task.Yield();
        var name = string.Create(CultureInfo.InvariantCulture, $"{entry.EndPoint.Host}:{entry.EndPoint.Port}");
        try
        {
            Http2Log.OpeningConnection(_logger, name, entry.Connections.Count + 1);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
            timeout.CancelAfter(_options.ConnectTimeout);
            Stream transport;
            try
            {
                transport = _options.ConnectCallback is { } callback
                    ? await callback(entry.EndPoint, timeout.Token)
                    : await Http2Connector.ConnectAsync(entry.EndPoint, _options.Tls, timeout.Token, _options.Resolve);
            }
            catch (Exception ex) when (ex is not Http2ConnectionException)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ConnectError, $"Connecting to {name} failed: {ex.Message}", ex) { IsRetryable = true };
            }

            Http2ClientConnection connection;
            try
            {
                connection = await Http2ClientConnection.ConnectAsync(transport, _options.Connection, _logger, name, timeout.Token);
            }
            catch (Exception ex) when (ex is not Http2ConnectionException)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ConnectError, $"HTTP/2 handshake with {name} failed: {ex.Message}", ex) { IsRetryable = true };
            }

            lock (entry)
            {
                entry.Connections.Add(connection);
                entry.PendingConnect = null;
            }

            return connection;
        }
        catch
        {
            lock (entry)
            {
                entry.PendingConnect = null;
            }

            throw;
        }
    }

    private void Retire(Backend entry, Http2ClientConnection connection)
    {
        lock (entry)
        {
            if (entry.Connections.Remove(connection))
            {
                Http2Log.RetiringConnection(_logger, connection.Peer);
                entry.Draining.Add(connection);
            }

            Sweep(entry);
        }
    }

    private void Sweep(Backend entry)
    {
        for (var i = entry.Connections.Count - 1; i >= 0; i--)
        {
            var connection = entry.Connections[i];
            if (!connection.IsAvailable)
            {
                Http2Log.RetiringConnection(_logger, connection.Peer);
                entry.Connections.RemoveAt(i);
                entry.Draining.Add(connection);
            }
        }

        for (var i = entry.Draining.Count - 1; i >= 0; i--)
        {
            var connection = entry.Draining[i];
            if (connection.ActiveStreamCount == 0 || connection.Completion.IsCompleted)
            {
                entry.Draining.RemoveAt(i);
                lock (_closing)
                {
                    _closing.RemoveAll(t => t.IsCompleted);
                    _closing.Add(connection.DisposeAsync().AsTask());
                }
            }
        }
    }

    private sealed class Backend(DnsEndPoint endPoint)
    {
        public DnsEndPoint EndPoint { get; } = endPoint;

        public List<Http2ClientConnection> Connections { get; } = [];

        public List<Http2ClientConnection> Draining { get; } = [];

        public Task<Http2ClientConnection>? PendingConnect { get; set; }
    }
}
