using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using BuildPool.BuildKit.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace BuildPool.BuildKit.Client;

/// <summary>
/// The operator's client for one buildkitd: readiness (ListWorkers, Info), drain
/// (ListenBuildHistory active-only) and GC (DiskUsage, Prune). Unary calls go through a Polly
/// pipeline that retries transient gRPC statuses with jittered backoff and bounds each attempt.
/// </summary>
public sealed class BuildKitClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Protocol.Control.ControlClient _control;
    private readonly ResiliencePipeline _pipeline;
    private readonly BuildKitClientOptions _options;

    /// <param name="address"><c>tcp://host:port</c> (or <c>https://</c>).</param>
    /// <param name="options">TLS, timeouts and retries.</param>
    /// <param name="resolve">Where to open the socket for the address's name (null from it: the usual DNS lookup); TLS still sees the name.</param>
    public BuildKitClient(string address, BuildKitClientOptions? options = null, Func<DnsEndPoint, EndPoint?>? resolve = null)
    {
        _options = options ?? new BuildKitClientOptions();
        var uri = BuildKitAddress.ToGrpcUri(address, _options.UseTls || _options.ClientCertificate is not null);
        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = CreateHandler(_options, resolve) });
        _control = new Protocol.Control.ControlClient(_channel);
        _pipeline = CreatePipeline(_options);
        Address = address;
    }

    public string Address { get; }

    public Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(CancellationToken cancellationToken = default) =>
        CallAsync<IReadOnlyList<WorkerRecord>>("ListWorkers", async ct =>
            (await _control.ListWorkersAsync(new ListWorkersRequest(), cancellationToken: ct)).Record, cancellationToken);

    public Task<BuildkitVersion> InfoAsync(CancellationToken cancellationToken = default) =>
        CallAsync("Info", async ct =>
            (await _control.InfoAsync(new InfoRequest(), cancellationToken: ct)).BuildkitVersion ?? new BuildkitVersion(), cancellationToken);

    public Task<IReadOnlyList<UsageRecord>> DiskUsageAsync(IEnumerable<string>? filters = null, CancellationToken cancellationToken = default)
    {
        var request = new DiskUsageRequest();
        if (filters is not null)
        {
            request.Filter.AddRange(filters);
        }

        return CallAsync<IReadOnlyList<UsageRecord>>("DiskUsage", async ct =>
            (await _control.DiskUsageAsync(request, cancellationToken: ct)).Record, cancellationToken);
    }

    /// <summary>
    /// Prunes and yields each record the daemon removed. Not retried: a prune that failed half-way
    /// already freed what it reported, and the caller decides whether to prune again.
    /// </summary>
    public async IAsyncEnumerable<UsageRecord> PruneAsync(PruneRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = _control.Prune(request, cancellationToken: cancellationToken);
        await foreach (var record in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            yield return record;
        }
    }

    /// <summary>
    /// The builds running right now. EarlyExit makes the daemon send the current active set and
    /// close the stream, instead of following new builds forever.
    /// </summary>
    public Task<IReadOnlyList<ActiveBuild>> ListActiveBuildsAsync(CancellationToken cancellationToken = default) =>
        CallAsync<IReadOnlyList<ActiveBuild>>("ListenBuildHistory", async ct =>
        {
            var builds = new Dictionary<string, ActiveBuild>(StringComparer.Ordinal);
            using var call = _control.ListenBuildHistory(new BuildHistoryRequest { ActiveOnly = true, EarlyExit = true }, cancellationToken: ct);
            await foreach (var ev in call.ResponseStream.ReadAllAsync(ct))
            {
                if (ev.Record is null || string.IsNullOrEmpty(ev.Record.Ref))
                {
                    continue;
                }

                if (ev.Type == BuildHistoryEventType.Started)
                {
                    builds[ev.Record.Ref] = new ActiveBuild(ev.Record.Ref, ev.Record.CreatedAt?.ToDateTimeOffset());
                }
                else
                {
                    builds.Remove(ev.Record.Ref);
                }
            }

            return builds.Values.ToList();
        }, cancellationToken);

    public void Dispose() => _channel.Dispose();

    private async Task<T> CallAsync<T>(string method, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var attempts = 0;
        try
        {
            var result = await _pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                return await call(ct);
            }, cancellationToken);
            BuildKitMetrics.Calls.Add(1, new("method", method), new("outcome", attempts > 1 ? "retried" : "ok"));
            return result;
        }
        catch (Exception ex) when (ex is RpcException or TimeoutRejectedException)
        {
            BuildKitMetrics.Calls.Add(1, new("method", method), new("outcome", "failed"));
            throw new BuildKitUnavailableException(Address, method, ex);
        }
        finally
        {
            BuildKitMetrics.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("method", method));
        }
    }

    private static ResiliencePipeline CreatePipeline(BuildKitClientOptions options) =>
        new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                ShouldHandle = new PredicateBuilder()
                    .Handle<RpcException>(e => IsTransient(e.StatusCode))
                    .Handle<TimeoutRejectedException>(),
            })
            .AddTimeout(options.CallTimeout)
            .Build();

    internal static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Aborted;

    private static SocketsHttpHandler CreateHandler(BuildKitClientOptions options, Func<DnsEndPoint, EndPoint?>? resolve)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (resolve is not null)
        {
            handler.ConnectCallback = ServiceConnect.Callback(resolve);
        }

        if (options.ClientCertificate is not null || options.CertificateAuthorities is not null)
        {
            var ssl = new SslClientAuthenticationOptions();
            if (options.ClientCertificate is not null)
            {
                ssl.ClientCertificates = [options.ClientCertificate];
            }

            if (options.CertificateAuthorities is { } roots)
            {
                ssl.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                    errors == SslPolicyErrors.None || (cert is not null && ChainsTo(new X509Certificate2(cert), roots));
            }

            handler.SslOptions = ssl;
        }

        return handler;
    }

    private static bool ChainsTo(X509Certificate2 leaf, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }
}
