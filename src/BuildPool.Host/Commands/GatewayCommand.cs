using System.CommandLine;
using System.Globalization;
using BuildPool.Api.Units;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Passthrough;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Host.Cluster;
using BuildPool.Host.Logging;
using BuildPool.Runtime.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace BuildPool.Host.Commands;

/// <summary>
/// <c>buildpool gateway</c>: the BuildKit-aware front door of a pool. Unmodified
/// <c>docker buildx create --driver remote tcp://gateway:1234</c> clients build through it and
/// each project's builds land on the builder whose cache is warm for it.
/// </summary>
public static class GatewayCommand
{
    /// <param name="resolveService">
    /// Where builders' names lead when the machine's DNS is not the cluster's (<c>buildpool dev</c>
    /// resolves Services to the loopback ports of its local builders); null: the machine's DNS.
    /// </param>
    public static Command Create(Func<System.Net.DnsEndPoint, System.Net.EndPoint?>? resolveService = null)
    {
        var listen = new Option<string>("--listen") { Description = "host:port where buildx connects.", DefaultValueFactory = _ => "0.0.0.0:1234" };
        var backends = new Option<string[]>("--backend")
        {
            Description = "A builder (one cache volume): name=tcp://host:port (h2c) or name=tls://host:port (TLS, see --upstream-*), optionally ,state=draining ,sharing=locked ,max-concurrent-builds=N ,keys=a;b. Repeatable. Not with --pool.",
            AllowMultipleArgumentsPerToken = false,
        };
        var pool = new Option<string?>("--pool") { Description = "Discover the builders from this BuilderPool's CacheVolumes (Kubernetes); its spec supplies the routing settings. Not with --backend." };
        var poolNamespace = new Option<string?>("--namespace") { Description = "Namespace of --pool (default: $POD_NAMESPACE, the kubeconfig context's namespace, or default)." };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "With --pool: path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)." };
        var kubeContext = new Option<string?>("--context") { Description = "With --pool: kubeconfig context to use." };
        var keySources = new Option<string>("--routing-key-sources")
        {
            Description = "Comma-separated key sources in order: Authority, ClientCertificate, ImageName, CacheRef, SessionDirectory.",
            DefaultValueFactory = _ => string.Join(',', KeyExtractor.DefaultSources),
        };
        var domain = new Option<string?>("--domain") { Description = "Routing domain: the first label of :authority or SNI under it is a key (proj.builds.example.test → proj)." };
        var loadFactor = new Option<double>("--bounded-load-factor") { Description = "No builder takes a new build above this factor times the mean load (≥ 1).", DefaultValueFactory = _ => 1.25 };
        var maxBuilds = new Option<int>("--max-concurrent-builds") { Description = "Running builds per builder; the rest queue.", DefaultValueFactory = _ => 4 };
        var queueTimeout = new Option<string>("--queue-timeout") { Description = "How long a build waits for a slot before RESOURCE_EXHAUSTED (Go duration).", DefaultValueFactory = _ => "5m" };
        var shutdownTimeout = new Option<string>("--shutdown-timeout") { Description = "How long running builds may finish after SIGTERM (Go duration).", DefaultValueFactory = _ => "5m" };
        var metrics = new Option<string>("--metrics-address") { Description = "host:port for /metrics, /healthz and /readyz.", DefaultValueFactory = _ => "0.0.0.0:8080" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM server certificate; with --tls-key the gateway serves HTTP/2 over TLS instead of h2c (ALPN h2 offered, not required: buildx negotiates none)." };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert." };
        var clientCa = new Option<string?>("--client-ca") { Description = "PEM CA bundle (the pool CA); client certificates must chain to it (their CN can be the routing key). With --pool, a certificate must also belong to a live ClientAccess SecretBinding of the pool." };
        var requireClientCert = new Option<bool>("--require-client-certificate") { Description = "With --client-ca: clients without a certificate fail the TLS handshake. --require-client-certificate=false lets them build anonymously.", DefaultValueFactory = _ => true };
        var upstreamCa = new Option<string?>("--upstream-ca") { Description = "PEM CA bundle builders' server certificates must chain to, for builders at tls:// or https:// addresses (default: the system roots)." };
        var upstreamCert = new Option<string?>("--upstream-cert") { Description = "PEM client certificate the gateway presents to TLS builders (mTLS); with --upstream-key." };
        var upstreamKey = new Option<string?>("--upstream-key") { Description = "PEM private key of --upstream-cert." };
        var upstreamKeepAlive = new Option<string>("--upstream-keepalive-interval")
        {
            Description = "While a builder connection carries calls, PING the builder after this long without a frame from it: a builder that stopped (lost node, frozen process) fails its builds with UNAVAILABLE after this plus --upstream-keepalive-timeout (Go duration; 0 disables).",
            DefaultValueFactory = _ => "30s",
        };
        var upstreamKeepAliveTimeout = new Option<string>("--upstream-keepalive-timeout") { Description = "How long a builder may leave a keep-alive PING unanswered before its connection and builds fail (Go duration).", DefaultValueFactory = _ => "20s" };
        var upstreamMaxControlFrames = new Option<int>("--upstream-max-control-frames")
        {
            Description = "PING, SETTINGS, RST_STREAM, PRIORITY, unknown and empty frames one builder connection may send per second (plus one per frame the gateway sent it); more ends that connection with GOAWAY ENHANCE_YOUR_CALM and fails only its builds, with UNAVAILABLE.",
            DefaultValueFactory = _ => 1000,
        };
        var upstreamMaxQueued = new Option<int>("--upstream-max-queued-control-frames")
        {
            Description = "PING and SETTINGS acknowledgements and RST_STREAM frames that may wait for a builder that does not read them; more ends that connection like a flood.",
            DefaultValueFactory = _ => 1024,
        };
        var injectRef = new Option<string?>("--inject-cache-ref") { Description = "Opt-in: builds without --cache-to/--cache-from get this registry cache, with {key} replaced by the build's routing key (e.g. cache.internal:5000/cache/{key})." };
        var injectUntrustedRef = new Option<string?>("--inject-cache-ref-untrusted") { Description = "Where isolated (untrusted) builds import the injected cache from instead of --inject-cache-ref, with {key} likewise (e.g. a read-only registry listener, cache.internal:5001/cache/{key}); they never export. Goes with --inject-cache-ref." };
        var injectAttrs = new Option<string[]>("--inject-cache-attr") { Description = "Extra export attribute for injected caches, key=value (e.g. image-manifest=true); repeatable." };
        var mode = new Option<string>("--mode")
        {
            Description = "grpc: terminate HTTP/2 and route each build by all key sources. passthrough: route TLS connections by SNI (first label under --domain) without terminating TLS, for builders that terminate mTLS themselves; connections without a key go to the least loaded ready builder.",
            DefaultValueFactory = _ => "grpc",
        };
        mode.AcceptOnlyFromAmong("grpc", "passthrough");
        var untrustedKeys = new Option<string[]>("--untrusted-key") { Description = "Glob pattern (* and ?) of routing keys whose builds are untrusted; repeatable. With static backends there are no forks, so such builds are refused; --mode passthrough refuses such connections. Not with --pool (spec.routing.untrustedKeys)." };
        var untrustedIdentities = new Option<string[]>("--untrusted-identity") { Description = "Glob pattern of client certificate identities whose builds are untrusted: they run only on isolated forks (--pool) or are refused; repeatable." };
        var maxIdLength = new Option<int>("--max-id-length") { Description = "Longest session id, build ref or LLBBridge build id a call may carry, in bytes (BuildKit's are 25); longer: INVALID_ARGUMENT.", DefaultValueFactory = _ => 256 };
        var maxSharedKeyLength = new Option<int>("--max-shared-key-length") { Description = "Longest session shared key, in bytes (buildx: context directory name + ':' + 16-digit node id); longer: INVALID_ARGUMENT.", DefaultValueFactory = _ => 512 };
        var maxRoutingKeyLength = new Option<int>("--max-routing-key-length") { Description = "Longest image name, cache ref or :authority a build may carry, in bytes; longer: INVALID_ARGUMENT.", DefaultValueFactory = _ => 512 };
        var maxBuildsPerConnection = new Option<int>("--max-builds-per-connection") { Description = "Builds one client connection may have tracked at once (running, or ended within the last minute); more: RESOURCE_EXHAUSTED.", DefaultValueFactory = _ => 256 };
        var maxBuildsPerTenant = new Option<int>("--max-builds-per-tenant") { Description = "Builds one tenant (client certificate identity) may have tracked at once over all its connections; more: RESOURCE_EXHAUSTED.", DefaultValueFactory = _ => 1000 };
        var maxTrackedBuilds = new Option<int>("--max-tracked-builds") { Description = "Builds the gateway tracks at once over all clients; more: RESOURCE_EXHAUSTED.", DefaultValueFactory = _ => 10_000 };
        var maxConnections = new Option<long>("--max-connections") { Description = "Open client connections, TLS handshakes included; more are closed at once.", DefaultValueFactory = _ => 10_000 };
        var maxConnectionsPerSource = new Option<int>("--max-connections-per-source") { Description = "Open connections from one source IP address (clients behind one NAT address share it); more are closed at once.", DefaultValueFactory = _ => 1000 };
        var maxConnectionsPerTenant = new Option<int>("--max-connections-per-tenant") { Description = "Open connections of one client certificate identity; more are closed after their handshake.", DefaultValueFactory = _ => 1000 };
        var maxTlsHandshakes = new Option<int>("--max-tls-handshakes") { Description = "TLS handshakes in progress at once; more connections are closed at once, so unfinished handshakes never take every connection.", DefaultValueFactory = _ => 500 };
        var tlsHandshakeTimeout = new Option<string>("--tls-handshake-timeout") { Description = "How long a client may take over its TLS handshake (Go duration).", DefaultValueFactory = _ => "10s" };
        var idleTimeout = new Option<string>("--idle-timeout") { Description = "How long a client connection with no call open stays open (Go duration); running builds are calls and are never cut by it.", DefaultValueFactory = _ => "2m" };
        var command = new Command("gateway", "Run the gateway that routes buildx builds to warm builders.")
        {
            listen, backends, pool, poolNamespace, kubeconfig, kubeContext, keySources, domain, loadFactor, maxBuilds, queueTimeout, shutdownTimeout, metrics, tlsCert, tlsKey, clientCa,
            requireClientCert, upstreamCa, upstreamCert, upstreamKey, injectRef, injectUntrustedRef, injectAttrs, mode, untrustedKeys, untrustedIdentities,
            upstreamKeepAlive, upstreamKeepAliveTimeout, upstreamMaxControlFrames, upstreamMaxQueued,
            maxIdLength, maxSharedKeyLength, maxRoutingKeyLength, maxBuildsPerConnection, maxBuildsPerTenant, maxTrackedBuilds,
            maxConnections, maxConnectionsPerSource, maxConnectionsPerTenant, maxTlsHandshakes, tlsHandshakeTimeout, idleTimeout,
        };
        var logFlags = LogSettings.Flags.Create();
        logFlags.AddTo(command);
        var flowControl = new FlowControlFlags();
        foreach (var flag in flowControl.All)
        {
            command.Options.Add(flag);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            GatewayOptions options;
            GatewayServices services;
            System.Net.IPEndPoint metricsEndPoint;
            LogSettings logs;
            var poolName = parse.GetValue(pool);
            try
            {
                logs = logFlags.Read(parse);
                var backendValues = parse.GetValue(backends) ?? [];
                CheckDiscovery(poolName, backendValues, parse);
                CheckMode(parse.GetValue(mode)!, parse);
                options = new GatewayOptions
                {
                    Listen = ListenAddress.Parse(parse.GetValue(listen)!),
                    Backends = poolName is null ? ParseBackends(backendValues) : [],
                    KeySources = ParseKeySources(parse.GetValue(keySources)!),
                    Domain = parse.GetValue(domain),
                    BoundedLoadFactor = AtLeastOne("--bounded-load-factor", parse.GetValue(loadFactor)),
                    MaxConcurrentBuilds = (int)AtLeastOne("--max-concurrent-builds", parse.GetValue(maxBuilds)),
                    QueueTimeout = GoDuration.ParsePositive("--queue-timeout", parse.GetValue(queueTimeout)!),
                    ShutdownTimeout = GoDuration.ParsePositive("--shutdown-timeout", parse.GetValue(shutdownTimeout)!),
                    CacheInjection = ParseInjection(parse.GetValue(injectRef), parse.GetValue(injectUntrustedRef), parse.GetValue(injectAttrs) ?? []),
                    UntrustedKeys = parse.GetValue(untrustedKeys) ?? [],
                    MaxIdLength = AtLeast("--max-id-length", parse.GetValue(maxIdLength), 32),
                    MaxSharedKeyLength = AtLeast("--max-shared-key-length", parse.GetValue(maxSharedKeyLength), 32),
                    MaxRoutingKeyLength = AtLeast("--max-routing-key-length", parse.GetValue(maxRoutingKeyLength), 32),
                    Correlation = new BuildPool.Gateway.Builds.BuildCorrelatorOptions
                    {
                        MaxBuildsPerConnection = AtLeast("--max-builds-per-connection", parse.GetValue(maxBuildsPerConnection), 1),
                        MaxBuildsPerTenant = AtLeast("--max-builds-per-tenant", parse.GetValue(maxBuildsPerTenant), 1),
                        MaxBuilds = AtLeast("--max-tracked-builds", parse.GetValue(maxTrackedBuilds), 1),
                        Pool = poolName,
                    },
                    MaxConnections = AtLeast("--max-connections", parse.GetValue(maxConnections), 1),
                    MaxConnectionsPerSource = AtLeast("--max-connections-per-source", parse.GetValue(maxConnectionsPerSource), 1),
                    MaxConnectionsPerTenant = AtLeast("--max-connections-per-tenant", parse.GetValue(maxConnectionsPerTenant), 1),
                    MaxPendingTlsHandshakes = AtLeast("--max-tls-handshakes", parse.GetValue(maxTlsHandshakes), 1),
                    TlsHandshakeTimeout = GoDuration.ParsePositive("--tls-handshake-timeout", parse.GetValue(tlsHandshakeTimeout)!),
                    IdleTimeout = GoDuration.ParsePositive("--idle-timeout", parse.GetValue(idleTimeout)!),
                    Upstream = new BuildPool.Http2.Http2ClientPoolOptions
                    {
                        Connection = UpstreamConnection(
                            parse.GetValue(upstreamKeepAlive)!,
                            parse.GetValue(upstreamKeepAliveTimeout)!,
                            parse.GetValue(upstreamMaxControlFrames),
                            parse.GetValue(upstreamMaxQueued)),
                    },
                };
                services = new GatewayServices
                {
                    UntrustedIdentities = parse.GetValue(untrustedIdentities) is { Length: > 0 } identities
                        ? new BuildPool.Gateway.Isolation.StaticUntrustedIdentities(identities)
                        : null,
                };
                options = new GatewayTlsFlags
                {
                    TlsCertificate = parse.GetValue(tlsCert),
                    TlsKey = parse.GetValue(tlsKey),
                    ClientCa = parse.GetValue(clientCa),
                    RequireClientCertificate = parse.GetResult(requireClientCert) is System.CommandLine.Parsing.OptionResult { Implicit: false } ? parse.GetValue(requireClientCert) : null,
                    UpstreamCa = parse.GetValue(upstreamCa),
                    UpstreamCertificate = parse.GetValue(upstreamCert),
                    UpstreamKey = parse.GetValue(upstreamKey),
                }.ApplyTo(options);
                options = flowControl.ApplyTo(parse, options);
                options.Upstream.Resolve = resolveService;
                metricsEndPoint = ListenAddress.Parse(parse.GetValue(metrics)!, "--metrics-address");
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync($"buildpool gateway: {ex.Message}");
                return 2;
            }

            KubernetesDiscovery? discovery = null;
            if (poolName is not null)
            {
                try
                {
                    discovery = await ConnectAsync(parse.GetValue(kubeconfig), parse.GetValue(kubeContext), parse.GetValue(poolNamespace), poolName, logs, cancellationToken);
                }
                catch (Exception ex) when (ex is ClusterUnavailableException or DiscoveryException)
                {
                    await Console.Error.WriteLineAsync($"buildpool gateway: {ex.Message}");
                    return 2;
                }

                options = discovery.Configure(options);
                services = discovery.Services(services);
            }

            if (parse.GetValue(mode) == "passthrough")
            {
                await RunPassthroughAsync(options, services, metricsEndPoint, discovery, logs, cancellationToken);
                return 0;
            }

            await RunAsync(options, services, metricsEndPoint, discovery, logs, cancellationToken);
            return 0;
        });
        return command;
    }

    private static CacheInjectionOptions? ParseInjection(string? template, string? untrustedTemplate, string[] attrs)
    {
        if (template is null)
        {
            return attrs.Length > 0 ? throw new FormatException("--inject-cache-attr goes with --inject-cache-ref")
                : untrustedTemplate is not null ? throw new FormatException("--inject-cache-ref-untrusted goes with --inject-cache-ref")
                : null;
        }

        foreach (var (flag, value) in new[] { ("--inject-cache-ref", template), ("--inject-cache-ref-untrusted", untrustedTemplate) })
        {
            if (value is not null && !value.Contains("{key}", StringComparison.Ordinal))
            {
                throw new FormatException($"{flag} '{value}' has no {{key}}: every project would share one cache");
            }
        }

        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var attr in attrs)
        {
            var eq = attr.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"--inject-cache-attr '{attr}' is not key=value");
            }

            parsed[attr[..eq]] = attr[(eq + 1)..];
        }

        return new CacheInjectionOptions { RefTemplate = template, UntrustedRefTemplate = untrustedTemplate, ExportAttributes = parsed };
    }

    // The pool's spec is the one source of its routing settings; a flag that would silently lose
    // to it is an error rather than a surprise.
    private static void CheckDiscovery(string? poolName, string[] backendValues, ParseResult parse)
    {
        if (poolName is null)
        {
            foreach (var flag in new[] { "--namespace", "--kubeconfig", "--context" })
            {
                if (parse.GetResult(flag) is System.CommandLine.Parsing.OptionResult { Implicit: false })
                {
                    throw new FormatException($"{flag} goes with --pool");
                }
            }

            return;
        }

        if (backendValues.Length > 0)
        {
            throw new FormatException("--backend and --pool are mutually exclusive: give static builders with --backend, or let --pool discover the pool's CacheVolumes");
        }

        if (poolName.Length == 0)
        {
            throw new FormatException("--pool: give the BuilderPool's name");
        }

        foreach (var flag in new[] { "--routing-key-sources", "--domain", "--bounded-load-factor", "--max-concurrent-builds", "--queue-timeout", "--untrusted-key" })
        {
            if (parse.GetResult(flag) is System.CommandLine.Parsing.OptionResult { Implicit: false })
            {
                throw new FormatException($"{flag} does not go with --pool: the BuilderPool's spec sets it");
            }
        }
    }

    // Passthrough never sees HTTP/2 or gRPC: flags that act on them would silently do nothing.
    private static void CheckMode(string mode, ParseResult parse)
    {
        if (mode != "passthrough")
        {
            return;
        }

        foreach (var flag in new[] { "--tls-cert", "--tls-key", "--client-ca", "--require-client-certificate", "--upstream-ca", "--upstream-cert", "--upstream-key", "--inject-cache-ref", "--inject-cache-ref-untrusted", "--inject-cache-attr", "--routing-key-sources", "--max-concurrent-builds", "--queue-timeout", "--untrusted-identity",
            "--max-id-length", "--max-shared-key-length", "--max-routing-key-length", "--max-builds-per-connection", "--max-builds-per-tenant", "--max-tracked-builds",
            "--max-connections-per-source", "--max-connections-per-tenant", "--max-tls-handshakes", "--tls-handshake-timeout", "--idle-timeout",
            "--upstream-keepalive-interval", "--upstream-keepalive-timeout", "--upstream-max-control-frames", "--upstream-max-queued-control-frames",
            "--upstream-stream-buffer", "--upstream-connection-buffer", "--upstream-buffer-total", "--min-response-data-rate", "--min-response-data-rate-grace" })
        {
            if (parse.GetResult(flag) is System.CommandLine.Parsing.OptionResult { Implicit: false })
            {
                throw new FormatException($"{flag} does not go with --mode passthrough: TLS passes through to the builders, and only the SNI can be a key");
            }
        }
    }

    /// <summary>The gateway's name in <c>managedFields</c> on what it writes (its pool's signal Lease).</summary>
    public const string GatewayFieldManager = "buildpool-gateway";

    private static async Task<KubernetesDiscovery> ConnectAsync(string? kubeconfig, string? context, string? @namespace, string poolName, LogSettings logs, CancellationToken cancellationToken)
    {
        var cluster = ClusterConnection.Load(kubeconfig, context);
        await ClusterConnection.CheckReachableAsync(cluster, TimeSpan.FromSeconds(10), cancellationToken);
        var ns = @namespace ?? Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? cluster.Namespace ?? "default";
        // The transport lives as long as the process: the gateway runs until it exits.
        var kubernetes = new k8s.Kubernetes(cluster);
        try
        {
            return await KubernetesDiscovery.ConnectAsync(
                new KubernetesTransport(kubernetes, GatewayFieldManager),
                ns,
                poolName,
                new KubernetesDiscoveryOptions { LoggerFactory = LoggerFactory.Create(logs.Apply) },
                cancellationToken);
        }
        catch (KubernetesApiException ex)
        {
            throw new DiscoveryException($"cannot read BuilderPool {ns}/{poolName}: {ex.Message}", ex);
        }
    }

    internal static IReadOnlyList<StaticBackend> ParseBackends(IEnumerable<string> values)
    {
        var list = values.Select(StaticBackendParser.Parse).ToList();
        if (list.Count == 0)
        {
            throw new FormatException("give at least one --backend name=tcp://host:port (static builders), or --pool NAME to discover a BuilderPool's CacheVolumes");
        }

        if (list.GroupBy(b => b.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new FormatException($"--backend: name '{duplicate.Key}' is given twice");
        }

        return list;
    }

    internal static IReadOnlyList<RoutingKeySource> ParseKeySources(string value)
    {
        var sources = new List<RoutingKeySource>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<RoutingKeySource>(part.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var source) || !Enum.IsDefined(source))
            {
                throw new FormatException($"--routing-key-sources: unknown source '{part}' (known: {string.Join(", ", Enum.GetNames<RoutingKeySource>())})");
            }

            sources.Add(source);
        }

        return sources;
    }

    // The builder side is not trusted either (builders may run untrusted code): liveness and
    // flood limits of the gateway's own HTTP/2 client, see docs/security.md.
    internal static BuildPool.Http2.Http2ClientConnectionOptions UpstreamConnection(string keepAlive, string keepAliveTimeout, int maxControlFrames, int maxQueuedControlFrames)
    {
        if (!GoDuration.TryParse(keepAlive, out var interval, out var reason))
        {
            throw new FormatException($"--upstream-keepalive-interval: {reason}");
        }

        return new BuildPool.Http2.Http2ClientConnectionOptions
        {
            KeepAlivePingInterval = interval == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : interval,
            KeepAlivePingTimeout = GoDuration.ParsePositive("--upstream-keepalive-timeout", keepAliveTimeout),
            MaxControlFramesPerSecond = (int)AtLeastOne("--upstream-max-control-frames", maxControlFrames),
            MaxQueuedControlFrames = (int)AtLeastOne("--upstream-max-queued-control-frames", maxQueuedControlFrames),
        };
    }

    private static double AtLeastOne(string flag, double value) =>
        value >= 1 && double.IsFinite(value) ? value : throw new FormatException($"{flag} {value.ToString(CultureInfo.InvariantCulture)}: must be at least 1");

    // Below the floor a limit would refuse honest clients (BuildKit's ids are 25 bytes).
    private static int AtLeast(string flag, int value, int floor) => (int)AtLeast(flag, (long)value, floor);

    private static long AtLeast(string flag, long value, long floor) =>
        value >= floor ? value : throw new FormatException($"{flag} {value.ToString(CultureInfo.InvariantCulture)}: must be at least {floor.ToString(CultureInfo.InvariantCulture)}");

    private static async Task RunAsync(GatewayOptions options, GatewayServices services, System.Net.IPEndPoint metricsEndPoint, KubernetesDiscovery? discovery, LogSettings logs, CancellationToken cancellationToken)
    {
        GatewayServer? gateway = null;
        await using var metricsApp = await StartMetricsAsync(metricsEndPoint, () => gateway is not null && (discovery?.IsReady(gateway) ?? gateway.IsReady), logs, cancellationToken, () => gateway?.Builds);
        await using (gateway = await GatewayServer.StartAsync(options, services, logs.Apply, cancellationToken))
        {
            // SIGTERM arrives either as the command's cancellation or through the host's console
            // lifetime; both mean: stop taking builds, let the running ones finish.
            await ServeAsync(gateway, discovery, gateway.StopAsync, cancellationToken, gateway.Stopping);
        }

        await metricsApp.StopAsync(CancellationToken.None);
    }

    private static async Task RunPassthroughAsync(GatewayOptions options, GatewayServices services, System.Net.IPEndPoint metricsEndPoint, KubernetesDiscovery? discovery, LogSettings logs, CancellationToken cancellationToken)
    {
        PassthroughServer? server = null;
        await using var metricsApp = await StartMetricsAsync(metricsEndPoint, () => server is not null && (discovery?.IsReady(server) ?? server.IsReady), logs, cancellationToken);
        using var loggers = LoggerFactory.Create(logs.Apply);
        await using (server = PassthroughServer.Start(options, services, new PassthroughOptions(), loggers, metricsApp.Services.GetService<System.Diagnostics.Metrics.IMeterFactory>()))
        {
            // SIGTERM: stop accepting, let open connections finish up to --shutdown-timeout.
            await ServeAsync(server, discovery, server.StopAsync, cancellationToken, metricsApp.Lifetime.ApplicationStopping);
        }

        await metricsApp.StopAsync(CancellationToken.None);
    }

    // The metrics listener is its own HTTP/1.1 server: scrapers and probes never share the build
    // port's listener or its limits.
    private static async Task<WebApplication> StartMetricsAsync(System.Net.IPEndPoint metricsEndPoint, Func<bool> ready, LogSettings logs, CancellationToken cancellationToken, Func<BuildPool.Gateway.Builds.BuildCorrelator?>? builds = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logs.Apply(builder.Logging);
        builder.WebHost.ConfigureKestrel(k => k.Listen(metricsEndPoint));
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(GatewayMetrics.MeterName).AddPrometheusExporter());
        var metricsApp = builder.Build();
        try
        {
            metricsApp.MapPrometheusScrapingEndpoint("/metrics");
            metricsApp.MapGet("/healthz", () => Results.Text("ok"));
            metricsApp.MapGet("/readyz", () => ready() ? Results.Text("ok") : Results.Text("no ready builder", statusCode: 503));
            if (builds is not null)
            {
                // Recent builds and their first cache miss: /builds, /builds/{id} and a page at /.
                BuildPool.Gateway.Insight.BuildPages.MapBuildPages(metricsApp, builds);
            }

            await metricsApp.StartAsync(cancellationToken);
            return metricsApp;
        }
        catch
        {
            await metricsApp.DisposeAsync();
            throw;
        }
    }

    // Runs discovery (if any) until either stop signal fires, then stops the server, letting
    // running builds finish. Discovery returns only when stopped; if it fails, routing would go
    // stale, so the server stops too.
    private static async Task ServeAsync(IBackendTarget target, KubernetesDiscovery? discovery, Func<CancellationToken, Task> stopServer, CancellationToken cancellationToken, CancellationToken stopping)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var discovering = discovery?.RunAsync(target, stop.Token);
        await (discovering is null ? stopped : Task.WhenAny(stopped, discovering));

        await stop.CancelAsync();
        await stopServer(CancellationToken.None);
        if (discovering is not null)
        {
            await discovering;
        }
    }
}
