using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Forwarding;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tenants;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Server;

/// <summary>
/// Handles every gRPC call the gateway accepts: the calls of a build go where the build is
/// routed (see <see cref="BuildCorrelator"/>), everything else (<c>Info</c>, <c>ListWorkers</c>,
/// <c>DiskUsage</c>, health checks, unknown services) to any ready builder.
/// </summary>
internal sealed class GatewayRequestHandler(
    GrpcForwarder forwarder,
    BuildCorrelator builds,
    Placement placement,
    BackendCircuits circuits,
    Func<string, StaticBackend?> backendOf,
    GatewayMetrics metrics,
    ILogger logger,
    BuildInputLimits limits,
    CacheInjectionOptions? cacheInjection = null,
    IBuilderStarter? starter = null,
    GrpcForwarder? tlsForwarder = null,
    ITenantDirectory? tenants = null,
    Isolation.IsolationPolicy? isolation = null)
{
    private const string ControlPrefix = "/moby.buildkit.v1.Control/";
    private const string SessionPath = ControlPrefix + "Session";
    private const string SolvePath = ControlPrefix + "Solve";
    private const string StatusPath = ControlPrefix + "Status";
    private const string PrunePath = ControlPrefix + "Prune";
    private const string BridgePrefix = "/moby.buildkit.v1.frontend.LLBBridge/";
    private const string SessionUuidHeader = "X-Docker-Expose-Session-Uuid";
    private const string SessionSharedKeyHeader = "X-Docker-Expose-Session-Sharedkey";
    private const string BuildIdHeader = "buildkit-controlapi-buildid";

    // A Solve or Status request larger than this is refused (BuildKit's own requests are far smaller).
    private const int MaxPeekedMessage = 4 * 1024 * 1024;

    // Room in a Status request for its encoding and fields newer BuildKit may add beside the ref.
    private const int StatusRequestOverhead = 1024;

    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private static readonly KeyValuePair<string, object?> Upstream = new("direction", "upstream");
    private static readonly KeyValuePair<string, object?> Downstream = new("direction", "downstream");

    private readonly ConcurrentDictionary<string, ClientConnection> _connections = new(StringComparer.Ordinal);

    public ClientConnection OpenConnection(string id) => _connections[id] = BuildCorrelator.OpenConnection(id);

    public void CloseConnection(string id)
    {
        if (_connections.TryRemove(id, out var connection))
        {
            builds.CloseConnection(connection);
        }
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        CountBytes(context);
        var aborted = context.RequestAborted;
        var path = request.Path.Value ?? string.Empty;
        // Every call, not only the handshake: a binding deleted while the connection stays open
        // refuses that connection's next build (and keyless calls) as soon as the watch saw it.
        var verdict = TenantGate.Check(context.Connection.ClientCertificate, tenants);
        if (!verdict.Allowed)
        {
            metrics.RefusedCalls.Add(1, new KeyValuePair<string, object?>("reason", verdict.Refusal));
            TenantLog.Refused(logger, path, verdict.Message!);
            GrpcStatusResponse.Write(context.Response, verdict.GrpcStatus, verdict.Message!);
            return;
        }

        var connection = _connections.TryGetValue(context.Connection.Id, out var known) ? known : BuildCorrelator.OpenConnection(context.Connection.Id);
        BuildCall? call = null;
        try
        {
            SolveRequestFields buildRequest = default;
            if (path == SolvePath || path == StatusPath)
            {
                (buildRequest, var unreadable) = await ReadBuildRequestAsync(context, path, aborted);
                if (unreadable is not null)
                {
                    // Fail closed: as a keyless call it would reach a builder past admission and limits.
                    Fail(context, "unreadable_request", GrpcStatusResponse.InvalidArgument, unreadable);
                    return;
                }
            }

            if (OverLimit(context, path, buildRequest) is { } tooLong)
            {
                // Before Join: the gateway keeps these strings for as long as it tracks the build.
                Fail(context, "input_too_long", GrpcStatusResponse.InvalidArgument, tooLong);
                return;
            }

            try
            {
                call = Join(context, path, buildRequest, connection, verdict.Tenant, aborted);
            }
            catch (ForeignBuildException ex)
            {
                Fail(context, "foreign_build", GrpcStatusResponse.PermissionDenied, ex.Message);
                return;
            }

            if (call is null)
            {
                if (UntrustedKeylessRefusal(context, path, verdict.Tenant) is { } refusal)
                {
                    Fail(context, "untrusted", GrpcStatusResponse.PermissionDenied, refusal);
                    return;
                }

                if (TenantScopedCalls.Applies(path))
                {
                    await ForwardScopedAsync(context, path, verdict.Tenant, connection);
                    return;
                }

                await ForwardAnyAsync(context, path);
                return;
            }

            // A held Status stream shows what its build waits for (a slot, a builder's start, a fork).
            var progress = call is { Kind: BuildCallKind.Status, Ref: { } reference } ? new HeldBuildProgress(context.Response, reference, builds.Time) : null;
            var route = await WhileHeldAsync(call.WaitForRouteAsync(aborted), call, progress, aborted);
            if (route.Backend is not { } backend)
            {
                var failure = route.Failure ?? "no ready builder";
                await (progress?.CompleteAsync(failure, aborted) ?? Task.CompletedTask);
                Fail(context, route.FailureStatus == GrpcStatusResponse.Unavailable ? "no_builder" : "refused_build", route.FailureStatus, failure);
                return;
            }

            if (call.Kind != BuildCallKind.Solve)
            {
                // Held until its Solve is on its way: the builder gives up on a build it has not
                // seen within seconds, and a Solve may queue for minutes.
                var solve = await WhileHeldAsync(call.WaitForSolveAsync(aborted), call, progress, aborted);
                await (progress?.CompleteAsync(solve.Message, aborted) ?? Task.CompletedTask);
                if (!solve.Forwards)
                {
                    Fail(context, "solve_not_forwarded", solve.GrpcStatus, solve.Message!);
                    return;
                }

                if (call.Tally is { } tally)
                {
                    Observe(context, tally.Observe);
                }

                await ForwardAsync(context, path, backend.Id);
                return;
            }

            await ForwardSolveAsync(context, path, call, route, backend);
        }
        catch (BuildLimitException ex)
        {
            // Thrown by Join before the build exists: nothing was kept, no builder saw the call.
            metrics.RefusedCalls.Add(1, new KeyValuePair<string, object?>("reason", "build_limit"));
            Fail(context, "build_limit", GrpcStatusResponse.ResourceExhausted, ex.Message);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away while its call waited for routing or admission.
        }
        finally
        {
            call?.Dispose();
        }
    }

    // Waits for <paramref name="wait"/>; meanwhile a Status call's stream says what the build
    // waits for, checked once a second (the queue ahead of it shrinks as builds finish).
    private static async Task<T> WhileHeldAsync<T>(Task<T> wait, BuildCall call, HeldBuildProgress? progress, CancellationToken aborted)
    {
        if (progress is null)
        {
            return await wait;
        }

        while (!wait.IsCompleted)
        {
            if (call.DescribeWait() is { } text)
            {
                await progress.ShowAsync(text, aborted);
            }

            await Task.WhenAny(wait, Task.Delay(ProgressInterval, call.Time, aborted));
            aborted.ThrowIfCancellationRequested();
        }

        return await wait;
    }

    private async Task ForwardSolveAsync(HttpContext context, string path, BuildCall call, BuildRoute route, Backend backend)
    {
        using var activity = GatewayMetrics.ActivitySource.StartActivity("route build", ActivityKind.Server);
        activity?.SetTag("buildpool.key", route.Key?.Value);
        activity?.SetTag("buildpool.key_source", route.KeySourceLabel);
        activity?.SetTag("buildpool.backend", backend.Id);
        if (route.Outcome == PlacementOutcome.Isolated && TrustedCacheExport(context) is { } trusted)
        {
            // Injection never gives an untrusted build an export; this is one it brought itself.
            var message = $"an untrusted build may not export a cache to the pool's registry cache ({trusted}): trusted builds import it";
            Fail(context, "untrusted_cache_export", GrpcStatusResponse.PermissionDenied, message);
            call.Refused(GrpcStatusResponse.PermissionDenied, message);
            call.Completed(GrpcStatusResponse.PermissionDenied);
            activity?.SetStatus(ActivityStatusCode.Error, message);
            return;
        }

        AdmissionLease lease;
        try
        {
            lease = await call.AdmitAsync();
        }
        catch (BuilderAtCapacityException ex)
        {
            GatewayLog.QueueTimedOut(logger, call.Unit.Refs.FirstOrDefault() ?? "-", backend.Id, ex.Message);
            Fail(context, "queue_timeout", GrpcStatusResponse.ResourceExhausted, ex.Message);
            call.Refused(GrpcStatusResponse.ResourceExhausted, ex.Message);
            call.Completed(GrpcStatusResponse.ResourceExhausted);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            return;
        }
        catch (TenantAtCapacityException ex)
        {
            TenantLog.QueueTimedOut(logger, call.Unit.Refs.FirstOrDefault() ?? "-", ex.Tenant, ex.Message);
            metrics.RefusedCalls.Add(1, new KeyValuePair<string, object?>("reason", "tenant_queue_timeout"));
            Fail(context, "tenant_queue_timeout", GrpcStatusResponse.ResourceExhausted, ex.Message);
            call.Refused(GrpcStatusResponse.ResourceExhausted, ex.Message);
            call.Completed(GrpcStatusResponse.ResourceExhausted);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            return;
        }

        var status = -1;
        try
        {
            activity?.SetTag("buildpool.queue_wait_ms", lease.QueueWait.TotalMilliseconds);
            InjectCache(context, route, activity);
            call.Forwarding();
            status = await ForwardAsync(context, path, backend.Id);
        }
        finally
        {
            // Before the handler returns, so before the client sees the Solve's trailers: the
            // next build of this project already finds the slot and the load freed.
            call.Completed(status);
        }
    }

    // The first cache export of the Solve into the pool's registry cache, if any.
    private string? TrustedCacheExport(HttpContext context) =>
        cacheInjection is null || context.Features.Get<GrpcPeekedMessage>() is not { IsComplete: true, IsCompressed: false } peeked
            ? null
            : CacheInjection.ExportRefs(peeked.Message.Span).FirstOrDefault(cacheInjection.Covers);

    // The pool's registry cache for builds that bring none (opt-in), keyed like the routing. An
    // isolated (untrusted) build imports it (from the read-only ref when there is one: its fork
    // holds no credential for the read-write one) and never exports: what it would write,
    // trusted builds read.
    private void InjectCache(HttpContext context, BuildRoute route, Activity? activity)
    {
        if (cacheInjection is null || route.Key is not { } key
            || context.Features.Get<GrpcPeekedMessage>() is not { IsComplete: true, IsCompressed: false } peeked
            || CacheInjection.HasCacheOptions(peeked.Message.Span))
        {
            return;
        }

        var isolated = route.Outcome == PlacementOutcome.Isolated;
        var cacheRef = cacheInjection.RefFor(key.Value, untrusted: isolated);
        peeked.Replace(CacheInjection.Inject(peeked.Message.Span, cacheRef, cacheInjection.ExportAttributes, export: !isolated));
        activity?.SetTag("buildpool.injected_cache", cacheRef);
        GatewayLog.CacheInjected(logger, key.Value, cacheRef);
    }

    // A Solve's or Status's request, read once to route the call; or why the gateway cannot
    // read it (then the call is refused, never forwarded past admission).
    private async Task<(SolveRequestFields Fields, string? Refusal)> ReadBuildRequestAsync(HttpContext context, string path, CancellationToken aborted)
    {
        var method = path[ControlPrefix.Length..];
        // A Status request carries only its ref: one longer than a ref may be is refused on its
        // length prefix, before the gateway reads (and holds) megabytes of it.
        var statusMax = limits.MaxIdLength + StatusRequestOverhead;
        var peeked = await GrpcForwarder.PeekFirstMessageAsync(context, path == StatusPath ? statusMax : MaxPeekedMessage, aborted);
        SolveRequestFields fields = default;
        var why = peeked switch
        {
            null => "it has no request message",
            { IsCompressed: true } => "its request message is compressed (send it uncompressed)",
            { IsComplete: false, DeclaredLength: var length } when path == StatusPath && length > statusMax =>
                $"its request message is {length} bytes, and a Status request carries only a build ref, which may be at most {limits.MaxIdLength} bytes (--max-id-length)",
            { IsComplete: false } => $"its request message is incomplete or larger than the gateway reads ({MaxPeekedMessage / (1024 * 1024)} MiB)",
            _ => !SolveRequestParser.TryParse(peeked.Message.Span, out fields) ? $"it is not a valid {method} request"
                : string.IsNullOrEmpty(fields.Ref) ? "it names no build ref"
                : null,
        };
        return (fields, why is null ? null : $"{method} refused: {why}");
    }

    // Why a build call's ids, shared key or key inputs are too long to keep (null: they are not).
    private string? OverLimit(HttpContext context, string path, in SolveRequestFields request)
    {
        var headers = context.Request.Headers;
        var authority = context.Request.Host.Value;
        return path switch
        {
            SessionPath => limits.Session(headers[SessionUuidHeader].FirstOrDefault(), headers[SessionSharedKeyHeader].FirstOrDefault(), authority),
            SolvePath or StatusPath => limits.Request(request, authority),
            _ when path.StartsWith(BridgePrefix, StringComparison.Ordinal) => limits.Bridge(headers[BuildIdHeader].FirstOrDefault(), authority),
            _ => null,
        };
    }

    // The build a call takes part in; null for a call that belongs to none (Info, ListWorkers, …).
    // A Solve or Status comes with its request, already read (and known to name a ref).
    private BuildCall? Join(HttpContext context, string path, SolveRequestFields request, ClientConnection connection, TenantInfo? tenant, CancellationToken aborted)
    {
        var headers = context.Request.Headers;
        if (path == SessionPath)
        {
            var id = headers[SessionUuidHeader];
            return id.Count == 1 && !string.IsNullOrEmpty(id[0])
                ? builds.JoinSession(id[0]!, headers[SessionSharedKeyHeader].FirstOrDefault(), connection, Origin(context, tenant))
                : null;
        }

        if (path == SolvePath)
        {
            return builds.JoinSolve(request, connection, Origin(context, tenant), aborted);
        }

        if (path == StatusPath)
        {
            return builds.JoinRef(request.Ref!, BuildCallKind.Status, connection, Origin(context, tenant));
        }

        if (path.StartsWith(BridgePrefix, StringComparison.Ordinal))
        {
            var buildId = headers[BuildIdHeader];
            return buildId.Count == 1 && !string.IsNullOrEmpty(buildId[0])
                ? builds.JoinRef(buildId[0]!, BuildCallKind.Bridge, connection, Origin(context, tenant))
                : null;
        }

        return null;
    }

    // Prune, disk usage and build history reach only the caller's own volumes (TenantScopedCalls).
    private async Task ForwardScopedAsync(HttpContext context, string path, TenantInfo? tenant, ClientConnection connection)
    {
        var scoped = TenantScopedCalls.Place(placement.Backends, tenant, tenants?.Tenants.Count > 0, connection.LastKeyedBackend, path);
        if (scoped.Refusal is { } refusal)
        {
            Fail(context, "tenant_scope", scoped.Status, refusal);
            return;
        }

        if (scoped.Backend is { } backend)
        {
            await ForwardAsync(context, path, backend.Id);
            return;
        }

        await ForwardAnyAsync(context, path);
    }

    private async Task ForwardAnyAsync(HttpContext context, string path)
    {
        var (placed, startFailure) = await KeylessPlacement.PlaceAsync(placement, starter, context.RequestAborted);
        if (startFailure is not null)
        {
            Fail(context, "no_builder", GrpcStatusResponse.Unavailable, $"no ready builder: {startFailure}");
            return;
        }

        if (placed.Backend is not { } backend)
        {
            Fail(context, "no_builder", GrpcStatusResponse.Unavailable, "no ready builder");
            return;
        }

        await ForwardAsync(context, path, backend.Id);
    }

    private async Task<int> ForwardAsync(HttpContext context, string path, string backendId)
    {
        if (backendOf(backendId) is not { } target)
        {
            // Discovery dropped the builder between the decision and now.
            GatewayLog.UnknownBackend(logger, path, backendId);
            Fail(context, "no_builder", GrpcStatusResponse.Unavailable, $"builder {backendId} is gone");
            return GrpcStatusResponse.Unavailable;
        }

        await (target.Tls ? tlsForwarder ?? forwarder : forwarder).ForwardAsync(context, target.EndPoint);
        var status = GrpcStatusResponse.Read(context);
        if (status == 0 && path == PrunePath)
        {
            // A later build that misses a step this builder had cached can name this prune.
            builds.History.Pruned(backendId, new Insight.PruneRecord(builds.Time.GetUtcNow(), "a Prune call through the gateway"));
        }

        if (status == GrpcStatusResponse.Unavailable)
        {
            metrics.Errors.Add(1, new KeyValuePair<string, object?>("reason", "unavailable"));
            circuits.RecordFailure(backendId);
        }
        else if (status >= 0)
        {
            circuits.RecordSuccess(backendId);
        }

        return status;
    }

    // A keyless call lands on a builder trusted builds use. From an untrusted client only the
    // read-only bootstrap calls buildx needs may go there; Prune, DiskUsage and the rest could
    // touch or read a trusted cache.
    private string? UntrustedKeylessRefusal(HttpContext context, string path, TenantInfo? tenant)
    {
        if (isolation is null || path is ControlPrefix + "Info" or ControlPrefix + "ListWorkers" || path.StartsWith("/grpc.health.", StringComparison.Ordinal))
        {
            return null;
        }

        var identity = IdentityOf(context.Connection.ClientCertificate);
        return isolation.UntrustedBecause(null, identity, tenant) is { } why
            ? $"untrusted client ({why}): only builds (which run on isolated forks), Info and ListWorkers are allowed, not {path}"
            : null;
    }

    private void Fail(HttpContext context, string reason, int status, string message)
    {
        metrics.Errors.Add(1, new KeyValuePair<string, object?>("reason", reason));
        GrpcStatusResponse.Write(context.Response, status, message);
    }

    private void CountBytes(HttpContext context)
    {
        var bytes = metrics.BytesProxied;
        if (context.Features.Get<IRequestBodyPipeFeature>() is { } requestBody)
        {
            context.Features.Set<IRequestBodyPipeFeature>(new CountedRequestBody(requestBody.Reader, n => bytes.Add(n, Upstream)));
        }

        Observe(context, null);
    }

    // One wrapper per call: it counts bytes and, for a Status stream, feeds the step tally.
    private void Observe(HttpContext context, ObservedResponseBody.Observer? also)
    {
        if (context.Features.Get<IHttpResponseBodyFeature>() is not { } body)
        {
            return;
        }

        var inner = body is ObservedResponseBody observed ? observed.Inner : body;
        var bytes = metrics.BytesProxied;
        context.Features.Set<IHttpResponseBodyFeature>(new ObservedResponseBody(inner, written =>
        {
            bytes.Add(written.Length, Downstream);
            also?.Invoke(written);
        }));
    }

    private static CallOrigin Origin(HttpContext context, TenantInfo? tenant)
    {
        var tls = context.Features.Get<ITlsHandshakeFeature>();
        var serverName = tls?.HostName;
        return new CallOrigin(context.Request.Host.Value, string.IsNullOrEmpty(serverName) ? null : serverName, IdentityOf(context.Connection.ClientCertificate), tenant, tls is not null);
    }

    internal static string? IdentityOf(X509Certificate2? certificate) => TenantGate.IdentityOf(certificate);
}
