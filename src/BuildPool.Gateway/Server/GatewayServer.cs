using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Forwarding;
using BuildPool.Gateway.Insight;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tenants;
using BuildPool.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Server;

/// <summary>
/// The gateway: Kestrel serving HTTP/2 (h2c, or TLS with optional client certificates, ALPN h2
/// offered but not required) in front of a set of builders, routing each build to one of them.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable, IBackendTarget
{
    private readonly WebApplication _app;
    private readonly GatewayOptions _options;
    private readonly GatewayServices _services;
    private readonly Http2ClientPool _pool;
    private readonly Http2ClientPool _tlsPool;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private FrozenDictionary<string, StaticBackend> _directory = FrozenDictionary<string, StaticBackend>.Empty;
    private GatewayRequestHandler? _handler;
    private Task _prober = Task.CompletedTask;
    private int _stopped;

    private GatewayServer(WebApplication app, GatewayOptions options, GatewayServices services)
    {
        _app = app;
        _options = options;
        _services = services;
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        _logger = loggers.CreateLogger<GatewayServer>();
        _metrics = new GatewayMetrics(app.Services.GetService<IMeterFactory>());
        Placement = new Placement(
            new PlacementOptions { BoundedLoadFactor = options.BoundedLoadFactor, MinimumLoadBound = options.MinimumLoadBound, Mode = options.Mode });
        Admission = new AdmissionController(
            new AdmissionOptions { QueueTimeout = options.QueueTimeout, DefaultMaxConcurrentBuilds = options.MaxConcurrentBuilds },
            services.TimeProvider);
        Circuits = new BackendCircuits(Placement, options.CircuitFailureThreshold);
        Tenants = new TenantAdmission(options.QueueTimeout, services.TimeProvider);
        if (services.Tenants is { } directory)
        {
            directory.Changed += Tenants.Update;
            Tenants.Update(directory.Tenants);
        }

        Isolation = new Isolation.IsolationPolicy(options.UntrustedKeys, services.UntrustedIdentities);
        Builds = new BuildCorrelator(
            new KeyExtractor(options.KeySources, options.Domain),
            Placement,
            Admission,
            options.Correlation,
            services.TimeProvider,
            _metrics,
            loggers.CreateLogger<BuildCorrelator>(),
            new PoolMode(services.BuilderStarter, services.ForkRequester, Tenants, Isolation));
        _metrics.ObserveQueued(() => Admission.TotalQueued + Tenants.TotalQueued);
        // Each builder's address says whether it speaks TLS (tls://, https://) or h2c (tcp://);
        // one pool per kind, since a pool dials all its backends alike.
        UpstreamBuffer = new Http2ReceiveBudget(options.UpstreamBufferTotal);
        _metrics.ObserveUpstreamBuffered(() => UpstreamBuffer.BufferedBytes);
        _pool = new Http2ClientPool(UpstreamWith(options, tls: null), loggers.CreateLogger<Http2ClientPool>());
        _tlsPool = new Http2ClientPool(UpstreamWith(options, options.Upstream.Tls ?? new Http2TlsOptions()), loggers.CreateLogger<Http2ClientPool>());
    }

    /// <summary>Where the gateway listens (the real port when <see cref="GatewayOptions.Listen"/> asked for 0).</summary>
    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The address a buildx remote driver uses: <c>tcp://host:port</c>.</summary>
    public string Address => $"tcp://{EndPoint}";

    public Placement Placement { get; }

    /// <summary>What all upstream connections buffer for clients, and the bound on it (<see cref="GatewayOptions.UpstreamBufferTotal"/>).</summary>
    public Http2ReceiveBudget UpstreamBuffer { get; }

    public AdmissionController Admission { get; }

    public BackendCircuits Circuits { get; }

    /// <summary>Which builds are untrusted; discovery swaps in the pool's untrustedKeys when they change.</summary>
    public Isolation.IsolationPolicy Isolation { get; }

    public BuildCorrelator Builds { get; }

    /// <summary>Per-tenant admission (<c>maxConcurrentBuilds</c> of a ClientAccess binding), per replica.</summary>
    public TenantAdmission Tenants { get; }

    /// <summary>Fires when the host was asked to stop (SIGTERM through the console lifetime) or <see cref="StopAsync"/> began.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>True while some builder takes builds (the <c>/readyz</c> answer).</summary>
    public bool IsReady => Placement.Backends.Any(b => b.State == BackendState.Ready);

    /// <summary>
    /// Starts listening; <paramref name="services"/> default to the system clock and static mode,
    /// <paramref name="configureLogging"/> to no logging providers.
    /// </summary>
    public static async Task<GatewayServer> StartAsync(
        GatewayOptions options,
        GatewayServices? services = null,
        Action<ILoggingBuilder>? configureLogging = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        services ??= new GatewayServices();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        // Running builds get this long to finish when the gateway stops; Kestrel sends GOAWAY
        // at once, so clients open new builds elsewhere meanwhile.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        GatewayServer? server = null;
        builder.WebHost.ConfigureKestrel(kestrel => Configure(kestrel, options, services.TimeProvider, () => server!));
        // A proxy's connections are few and busy: read each client's bytes without the zero-byte
        // "data ready?" read before every receive, and run the forwarding code on the socket's
        // own I/O thread instead of hopping to the thread pool per read. Both cut the gateway's
        // CPU per byte; the handler never blocks, which inline scheduling requires.
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.WaitForDataBeforeAllocatingBuffer = false;
            sockets.UnsafePreferInlineScheduling = true;
        });
        var app = builder.Build();
        server = new GatewayServer(app, options, services);
        try
        {
            server.SetBackends(options.Backends);
            var forwarderLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<GrpcForwarder>();
            server._handler = new GatewayRequestHandler(
                new GrpcForwarder(server._pool, forwarderLogger),
                server.Builds,
                server.Placement,
                server.Circuits,
                server.BackendOf,
                server._metrics,
                server._logger,
                BuildInputLimits.Of(server._options),
                server._options.CacheInjection,
                services.BuilderStarter,
                new GrpcForwarder(server._tlsPool, forwarderLogger),
                services.Tenants,
                server.Isolation);
            app.Run(server._handler.HandleAsync);
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var uri = new Uri(address);
            server.EndPoint = new IPEndPoint(options.Listen.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : options.Listen.Address, uri.Port);
            server._prober = new CircuitProber(server.Circuits, server.ProbeAsync, id => GatewayLog.BackendRecovered(server._logger, id), options.ProbeInterval, services.TimeProvider)
                .RunAsync(server._stopping.Token);
            GatewayLog.Listening(server._logger, options.Listen.ToString(), ModeOf(options, services), options.Backends.Count);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Replaces the builder set (static discovery reload, tests); running builds finish where they are.</summary>
    public void SetBackends(IEnumerable<StaticBackend> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        var list = backends.ToList();
        foreach (var backend in list)
        {
            Admission.SetCapacity(backend.Name, backend.MaxConcurrentBuilds ?? _options.MaxConcurrentBuilds);
            if (backend.LastGC is { } gc)
            {
                // Recorded once per moment; a later miss of a step cached before it can name it.
                Builds.History.Pruned(backend.Name, new PruneRecord(gc, "the operator's garbage collection or prune (CacheVolume status.lastGC)"));
            }
        }

        Volatile.Write(ref _directory, list.ToFrozenDictionary(b => b.Name, StringComparer.Ordinal));
        Placement.Update(list.Select(b => b.ToBackend()));
    }

    /// <summary>
    /// Stops accepting connections and lets running calls finish for up to
    /// <see cref="GatewayOptions.ShutdownTimeout"/> (or until <paramref name="cancellationToken"/>).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _app.StopAsync(cancellationToken);
        await _prober;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        await _pool.DisposeAsync();
        await _tlsPool.DisposeAsync();
        if (_services.Tenants is { } directory)
        {
            directory.Changed -= Tenants.Update;
        }

        Builds.Dispose();
        _metrics.Dispose();
        _stopping.Dispose();
    }

    private StaticBackend? BackendOf(string backendId) =>
        Volatile.Read(ref _directory).TryGetValue(backendId, out var backend) ? backend : null;

    private static string ModeOf(GatewayOptions options, GatewayServices services) => (options.TlsCertificatePath, options.ClientCaPath, options.RequireClientCertificate, services.Tenants) switch
    {
        (null, _, _, _) => "h2c",
        (_, null, _, _) => "tls",
        (_, _, true, null) => "mtls, any certificate from the client CA",
        (_, _, true, _) => "mtls, certificates of live SecretBindings",
        _ => "tls, client certificates optional",
    };

    private Http2ClientPoolOptions UpstreamWith(GatewayOptions options, Http2TlsOptions? tls)
    {
        var upstream = options.Upstream;
        var connection = upstream.Connection.Clone();
        connection.InitialStreamWindowSize = options.UpstreamStreamBuffer;
        connection.InitialConnectionWindowSize = options.UpstreamConnectionBuffer;
        connection.ReceiveBudget = UpstreamBuffer;
        var pool = upstream.Clone();
        pool.Connection = connection;
        pool.Tls = tls;
        return pool;
    }

    private static void Configure(KestrelServerOptions kestrel, GatewayOptions options, TimeProvider time, Func<GatewayServer> server)
    {
        kestrel.AddServerHeader = false;
        var limits = kestrel.Limits;
        // A long RUN step leaves streams silent for minutes; deadlines come from the client.
        limits.MinRequestBodyDataRate = null;
        // Silence is not slowness here: Kestrel times only writes waiting on the client, so a
        // client that stops reading (and holds the gateway's buffers) is cut, a quiet build is not.
        limits.MinResponseDataRate = options.MinResponseDataRate is { } rate ? new MinDataRate(rate, options.MinResponseDataRateGrace) : null;
        limits.MaxRequestBodySize = null;
        // With no call open (between builds, or a client that connects and sits): running builds
        // are open calls, so this never cuts a long silent step.
        limits.KeepAliveTimeout = options.IdleTimeout;
        limits.MaxRequestHeadersTotalSize = options.MaxRequestHeadersTotalSize;
        // ConnectionLimiter counts all connections, with the per-source, per-tenant and handshake caps.
        limits.MaxConcurrentConnections = null;
        limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        limits.Http2.MaxRequestHeaderFieldSize = Math.Min(options.MaxRequestHeadersTotalSize, 16 * 1024);
        // Build contexts travel inside the Session stream: large windows keep it from being latency bound.
        limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
        limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;
        // A client that vanished without closing (a killed CI runner) is found out, so its builds end.
        limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
        limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

        kestrel.Listen(options.Listen, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            var tlsOn = options.TlsCertificatePath is not null;
            var limiter = new ConnectionLimiter(options, time, () => server()._metrics, kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<ConnectionLimiter>());
            listen.Use(next => connection => limiter.OnConnectionAsync(connection, next, tlsOn));
            listen.Use(next => async connection =>
            {
                var handler = server()._handler!;
                handler.OpenConnection(connection.ConnectionId);
                try
                {
                    await next(connection);
                }
                finally
                {
                    handler.CloseConnection(connection.ConnectionId);
                }
            });
            if (options.TlsCertificatePath is { } certificatePath)
            {
                // buildx's remote driver says :scheme http over its own TLS (grpc-go with insecure
                // credentials on a TLS dialer); the scheme means nothing to a gRPC proxy.
                kestrel.AllowAlternateSchemes = true;
                var tls = new TlsTermination(
                    options,
                    certificatePath,
                    time,
                    kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<TlsTermination>(),
                    certificate =>
                    {
                        var gateway = server();
                        gateway._metrics.RefusedCalls.Add(1, new KeyValuePair<string, object?>("reason", "untrusted_certificate"));
                        TenantLog.UntrustedCertificate(gateway._logger, certificate.Subject, certificate.SerialNumber);
                    },
                    certificate =>
                    {
                        var gateway = server();
                        gateway._metrics.RefusedCalls.Add(1, new KeyValuePair<string, object?>("reason", ClientAuthUsage.Refusal));
                        TenantLog.NotForClientAuth(gateway._logger, ClientAuthUsage.Describe(certificate));
                    });
                listen.Use(next => connection => tls.OnConnectionAsync(connection, next));
                listen.Use(next => connection => limiter.OnHandshakeDoneAsync(connection, next));
            }
        });
    }

    // A builder whose circuit opened gets a plain connect now and then (CircuitProber).
    private async Task<bool> ProbeAsync(string backendId, CancellationToken cancellationToken)
    {
        if (BackendOf(backendId) is not { } backend)
        {
            return false;
        }

        await using var transport = await Http2Connector.ConnectAsync(backend.EndPoint, backend.Tls ? _options.Upstream.Tls ?? new Http2TlsOptions() : null, cancellationToken, _options.Upstream.Resolve);
        return true;
    }
}
