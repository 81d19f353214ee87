using System.Collections.Concurrent;
using System.Net;
using BuildPool.BuildKit.Protocol;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildPool.TestDoubles;

/// <summary>
/// A gRPC server that answers BuildKit's Control API the way buildkitd does for the calls the
/// operator makes: workers, version, disk usage, prune (never removing in-use records) and the
/// active build list. Tests set its state and read what it was asked.
/// It is also one builder of a <see cref="FakeBuilderFleet"/>: <see cref="Builds"/> serves the build
/// surface (Session, Solve, Status, LLBBridge/Ping), and every response carries
/// <c>x-fake-builder: name</c> so a client behind the gateway can tell who answered.
/// </summary>
public sealed class FakeBuildKitDaemon : IAsyncDisposable
{
    private readonly WebApplication _app;

    /// <summary>The response header naming the builder that answered.</summary>
    public const string BuilderHeader = "x-fake-builder";

    private FakeBuildKitDaemon(WebApplication app, State state, FakeBuilds builds)
    {
        _app = app;
        Daemon = state;
        Builds = builds;
    }

    public State Daemon { get; }

    /// <summary>The build surface: sessions, Solves, Status, recorded calls, running-build counters.</summary>
    public FakeBuilds Builds { get; }

    /// <summary>The builder's name (the worker id unless named apart).</summary>
    public string Name => Builds.BuilderName;

    /// <summary>Where to connect: 127.0.0.1 and the port Kestrel picked.</summary>
    public DnsEndPoint EndPoint { get; private set; } = new("127.0.0.1", 0);

    /// <summary>The address as buildx writes it: tcp://127.0.0.1:port.</summary>
    public string Address { get; private set; } = string.Empty;

    public static Task<FakeBuildKitDaemon> StartAsync(string workerId = "fake-worker", CancellationToken cancellationToken = default) =>
        StartAsync(workerId, workerId, cancellationToken);

    /// <summary>Starts a builder named <paramref name="name"/> (the name in <c>x-fake-builder</c> and in recorded calls).</summary>
    public static Task<FakeBuildKitDaemon> StartAsync(string workerId, string name, CancellationToken cancellationToken = default) =>
        StartAsync(workerId, name, tls: null, cancellationToken);

    /// <summary>
    /// Starts a builder that serves TLS (ALPN h2) when <paramref name="tls"/> is set; its
    /// <see cref="Address"/> is then <c>tls://127.0.0.1:port</c>.
    /// </summary>
    public static Task<FakeBuildKitDaemon> StartAsync(string workerId, string name, FakeBuilderTls? tls, CancellationToken cancellationToken = default) =>
        StartAsync(workerId, name, tls, new IPEndPoint(IPAddress.Loopback, 0), cancellationToken);

    /// <summary>Starts a builder listening on <paramref name="listen"/> (port 0: one Kestrel picks).</summary>
    public static async Task<FakeBuildKitDaemon> StartAsync(string workerId, string name, FakeBuilderTls? tls, IPEndPoint listen, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(listen, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                if (tls is not null)
                {
                    l.UseHttps(Https(tls));
                }
            });
            // Builds keep streams open and silent for minutes (a long RUN step), as buildkitd allows.
            k.Limits.MinRequestBodyDataRate = null;
            k.Limits.MinResponseDataRate = null;
            // buildkitd (grpc-go) credits its connection window as data arrives, so a stream whose
            // requests it does not read stops only itself. Kestrel credits it as the application
            // reads; a connection window far above its 768 KiB stream windows stands in for that.
            k.Limits.Http2.InitialConnectionWindowSize = 64 * 1024 * 1024;
        });
        // Held Solves and open Status streams end through Builds.Stop(); never wait long for them.
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var state = new State(workerId);
        var builds = new FakeBuilds(name, state);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(builds);
        // Session streams carry the build context; buildkitd sets no message size limit on them.
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        var app = builder.Build();
        app.Use((context, next) =>
        {
            context.Response.Headers[BuilderHeader] = name;
            return next(context);
        });
        app.MapGrpcService<ControlService>();
        app.MapGrpcService<FakeLlbBridgeService>();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var authority = new Uri(address);
        return new FakeBuildKitDaemon(app, state, builds)
        {
            Address = (tls is null ? "tcp://" : "tls://") + authority.Authority,
            EndPoint = new DnsEndPoint(authority.Host, authority.Port),
        };
    }

    private static Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions Https(FakeBuilderTls tls)
    {
        var https = new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions { ServerCertificate = tls.ServerCertificate };
        if (tls.ClientCa is not null || tls.ClientCaBundle is not null)
        {
            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => tls.Accepts(certificate);
        }

        return https;
    }

    public async ValueTask DisposeAsync()
    {
        Builds.Stop();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The daemon's state, shared with the service instance of each call.</summary>
    public sealed class State(string workerId)
    {
        public string WorkerId { get; } = workerId;

        public string Version { get; set; } = "v0.17.3";

        public ConcurrentDictionary<string, UsageRecord> Records { get; } = new();

        public ConcurrentDictionary<string, DateTimeOffset> ActiveBuilds { get; } = new();

        public ConcurrentQueue<PruneRequest> PruneRequests { get; } = new();

        public ConcurrentQueue<string> Calls { get; } = new();

        /// <summary>When set, every call fails with this status (a daemon that is starting or broken).</summary>
        public StatusCode? FailWith { get; set; }

        /// <summary>Fail this many calls with Unavailable, then answer normally.</summary>
        public int TransientFailures;

        public void AddRecord(string id, long size, string type, string description, bool inUse = false, DateTimeOffset? lastUsed = null) =>
            Records[id] = new UsageRecord
            {
                ID = id,
                Size = size,
                RecordType = type,
                Description = description,
                InUse = inUse,
                Mutable = type == "exec.cachemount",
                LastUsedAt = Timestamp.FromDateTimeOffset(lastUsed ?? DateTimeOffset.UnixEpoch),
                CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
            };

        internal void Enter(string method)
        {
            Calls.Enqueue(method);
            if (FailWith is { } code)
            {
                throw new RpcException(new Status(code, "fake daemon told to fail"));
            }

            if (Interlocked.Decrement(ref TransientFailures) >= 0)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "fake daemon is starting"));
            }
        }
    }

    private sealed class ControlService(State state, FakeBuilds builds) : Control.ControlBase
    {
        public override Task<SolveResponse> Solve(SolveRequest request, ServerCallContext context) => builds.SolveAsync(request, context);

        public override Task Status(StatusRequest request, IServerStreamWriter<StatusResponse> responseStream, ServerCallContext context) =>
            builds.StatusAsync(request, responseStream, context);

        public override Task Session(IAsyncStreamReader<BytesMessage> requestStream, IServerStreamWriter<BytesMessage> responseStream, ServerCallContext context) =>
            builds.SessionAsync(requestStream, responseStream, context);

        public override Task<ListWorkersResponse> ListWorkers(ListWorkersRequest request, ServerCallContext context)
        {
            builds.Record(context, null, null);
            state.Enter("ListWorkers");
            var worker = new WorkerRecord { ID = state.WorkerId, BuildkitVersion = Version() };
            worker.Platforms.Add(new Platform { OS = "linux", Architecture = "amd64" });
            worker.Labels.Add("org.mobyproject.buildkit.worker.executor", "oci");
            return Task.FromResult(new ListWorkersResponse { Record = { worker } });
        }

        public override Task<InfoResponse> Info(InfoRequest request, ServerCallContext context)
        {
            builds.Record(context, null, null);
            state.Enter("Info");
            return Task.FromResult(new InfoResponse { BuildkitVersion = Version() });
        }

        public override Task<DiskUsageResponse> DiskUsage(DiskUsageRequest request, ServerCallContext context)
        {
            builds.Record(context, null, null);
            state.Enter("DiskUsage");
            var response = new DiskUsageResponse();
            response.Record.AddRange(state.Records.Values.Where(r => Matches(r, request.Filter)).OrderBy(r => r.ID, StringComparer.Ordinal));
            return Task.FromResult(response);
        }

        public override async Task Prune(PruneRequest request, IServerStreamWriter<UsageRecord> responseStream, ServerCallContext context)
        {
            builds.Record(context, null, null);
            state.Enter("Prune");
            state.PruneRequests.Enqueue(request.Clone());
            // A prune of cache mounts only (the operator's targeted prunes) leaves the layer cache.
            if (!request.Filter.Any(f => f.Contains("exec.cachemount", StringComparison.Ordinal)))
            {
                builds.Cache.Clear();
            }
            foreach (var record in state.Records.Values.Where(r => !r.InUse && Matches(r, request.Filter)).OrderBy(r => r.ID, StringComparer.Ordinal).ToList())
            {
                if (state.Records.TryRemove(record.ID, out _))
                {
                    await responseStream.WriteAsync(record);
                }
            }
        }

        public override async Task ListenBuildHistory(BuildHistoryRequest request, IServerStreamWriter<BuildHistoryEvent> responseStream, ServerCallContext context)
        {
            builds.Record(context, null, null);
            state.Enter("ListenBuildHistory");
            foreach (var (id, created) in state.ActiveBuilds)
            {
                await responseStream.WriteAsync(new BuildHistoryEvent
                {
                    Type = BuildHistoryEventType.Started,
                    Record = new BuildHistoryRecord { Ref = id, CreatedAt = Timestamp.FromDateTimeOffset(created) },
                });
            }
        }

        private BuildkitVersion Version() => new() { Package = "github.com/moby/buildkit", Version = state.Version, Revision = "fake" };

        // containerd-style filters, the subset BuildPool sends: key==value, key!=value, key~=regex.
        private static bool Matches(UsageRecord record, IEnumerable<string> filters)
        {
            foreach (var filter in filters)
            {
                foreach (var clause in filter.Split(','))
                {
                    var (key, op, value) = Split(clause);
                    var actual = key switch
                    {
                        "type" => record.RecordType,
                        "description" => record.Description,
                        "id" => record.ID,
                        "inuse" => record.InUse ? "true" : "false",
                        _ => string.Empty,
                    };
                    var ok = op switch
                    {
                        "==" => actual == value,
                        "!=" => actual != value,
                        "~=" => System.Text.RegularExpressions.Regex.IsMatch(actual, value),
                        _ => true,
                    };
                    if (!ok)
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        private static (string Key, string Op, string Value) Split(string clause)
        {
            foreach (var op in new[] { "==", "!=", "~=" })
            {
                var i = clause.IndexOf(op, StringComparison.Ordinal);
                if (i > 0)
                {
                    return (clause[..i], op, clause[(i + 2)..].Trim('"'));
                }
            }

            return (clause, "", "");
        }
    }
}
