using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using BuildPool.BuildKit.Protocol;
using BuildPool.TestDoubles.Protocol.Frontend;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace BuildPool.TestDoubles;

/// <summary>
/// The build surface of one fake builder, behaving like buildkitd where routing depends on it:
/// sessions live only in this builder's memory; a Solve waits a few seconds for its session and
/// then fails with <c>no active session</c>; a session whose grpc-method header fields lack file
/// sync fails the build with <c>no local sources enabled</c>; Status follows the Solve of its ref;
/// LLBBridge calls must name a ref whose Solve reached this builder. Every call is recorded, so
/// tests can assert that all calls of one build reached one builder.
/// </summary>
public sealed class FakeBuilds
{
    public const string SessionUuidHeader = "X-Docker-Expose-Session-Uuid";
    public const string SessionSharedKeyHeader = "X-Docker-Expose-Session-Sharedkey";
    public const string SessionMethodHeader = "X-Docker-Expose-Session-Grpc-Method";
    public const string BuildIdMetadata = "buildkit-controlapi-buildid";

    /// <summary>The message buildkitd gives when the session has no file-sync method (a joined header).</summary>
    public const string NoLocalSourcesMessage = "failed to read dockerfile: no local sources enabled";

    private readonly FakeBuildKitDaemon.State _daemon;
    private readonly AsyncSignal _changed = new();
    private readonly ConcurrentQueue<FakeBuilderCall> _calls = new();
    private readonly ConcurrentQueue<FakeSolveRecord> _solves = new();
    private readonly ConcurrentQueue<FakeSession> _allSessions = new();
    private readonly ConcurrentDictionary<string, FakeSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeBuildRun> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _counterLock = new();
    private int _runningSolves;
    private int _maxConcurrentSolves;
    private int _completedSolves;

    internal FakeBuilds(string builderName, FakeBuildKitDaemon.State daemon)
    {
        BuilderName = builderName;
        _daemon = daemon;
    }

    public string BuilderName { get; }

    /// <summary>How long a Solve waits for its session to appear here (buildkitd: about 5 s).</summary>
    public TimeSpan SessionWaitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an LLBBridge call waits for its build's Solve to appear here (buildkitd: 3 s).</summary>
    public TimeSpan BuildIdWaitTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a Status call waits for its build's Solve to appear here (buildkitd's
    /// <c>solver.Get</c>: 6 s), then fails with <c>NotFound: no such job</c>.
    /// </summary>
    public TimeSpan StatusWaitTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>When true, each Solve runs until <see cref="Release"/> or <see cref="ReleaseAll"/> (a long build).</summary>
    public bool HoldSolves { get; set; }

    /// <summary>How long each Solve runs after its session was found; zero finishes at once.</summary>
    public TimeSpan SolveDuration { get; set; } = TimeSpan.Zero;

    /// <summary>The vertexes each Solve that names no <see cref="FakeDockerfile"/> reports on Status, with new digests per build.</summary>
    public IReadOnlyList<FakeBuildStep> Steps { get; set; } =
    [
        new("[internal] load build definition from Dockerfile", Cached: true),
        new("[1/3] FROM docker.io/library/alpine:3.20", Cached: true),
        new("[2/3] RUN apk add --no-cache git", Cached: false),
        new("[3/3] COPY . /src", Cached: false),
    ];

    /// <summary>
    /// The layer cache builds of a <see cref="FakeDockerfile"/> hit or miss; a Prune on this
    /// daemon empties it. (Builds without a Dockerfile model report <see cref="Steps"/> as listed.)
    /// </summary>
    public FakeBuildCache Cache { get; } = new();

    /// <summary>Called with the steps of each Solve that ran to its end (a daemon that remembers what it built).</summary>
    public Action<IReadOnlyList<FakeBuildStep>>? Solved { get; set; }

    /// <summary>Every call this builder received, in arrival order.</summary>
    public IReadOnlyList<FakeBuilderCall> Calls => _calls.ToArray();

    /// <summary>Every Solve that reached this builder, including ones that then failed.</summary>
    public IReadOnlyList<FakeSolveRecord> Solves => _solves.ToArray();

    /// <summary>Every session ever registered here, open or closed.</summary>
    public IReadOnlyList<FakeSession> Sessions => _allSessions.ToArray();

    /// <summary>Refs of the Solves running now.</summary>
    public IReadOnlyCollection<string> RunningRefs => _running.Keys.ToArray();

    public int RunningSolves => Volatile.Read(ref _runningSolves);

    /// <summary>The most Solves that ran here at the same time since start or <see cref="ResetCounters"/>.</summary>
    public int MaxConcurrentSolves => Volatile.Read(ref _maxConcurrentSolves);

    /// <summary>Solves that ran and returned successfully.</summary>
    public int CompletedSolves => Volatile.Read(ref _completedSolves);

    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>Calls of one build here: those naming <paramref name="reference"/> and those of its Solve's session.</summary>
    public IReadOnlyList<FakeBuilderCall> CallsOf(string reference, IEnumerable<string>? sessionIds = null)
    {
        var sessions = new HashSet<string>(sessionIds ?? [], StringComparer.Ordinal);
        sessions.UnionWith(_solves.Where(s => s.Ref == reference && s.SessionId.Length > 0).Select(s => s.SessionId));
        return _calls.Where(c => c.Ref == reference || (c.SessionId is { } id && sessions.Contains(id))).ToList();
    }

    /// <summary>Lets the held Solve of <paramref name="reference"/> finish (also if it has not arrived yet).</summary>
    public void Release(string reference) => Run(reference).Release();

    /// <summary>Lets every Solve held now finish; later Solves are held again while <see cref="HoldSolves"/> is true.</summary>
    public void ReleaseAll()
    {
        foreach (var run in _runs.Values)
        {
            run.Release();
        }
    }

    public void ResetCounters()
    {
        lock (_counterLock)
        {
            _maxConcurrentSolves = _runningSolves;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> over this builder's state holds; throws TimeoutException otherwise.</summary>
    public async Task WaitUntilAsync(Func<FakeBuilds, bool> condition, string what, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        if (!await _changed.WaitUntilAsync(() => condition(this), timeout ?? TimeSpan.FromSeconds(10), cancellationToken))
        {
            throw new TimeoutException($"Builder {BuilderName}: timed out waiting for {what}.");
        }
    }

    /// <summary>Waits until the Solve of <paramref name="reference"/> is running here.</summary>
    public Task WaitForRunningAsync(string reference, TimeSpan? timeout = null) =>
        WaitUntilAsync(b => b._running.ContainsKey(reference), $"Solve {reference} to run", timeout);

    internal void Stop() => _stopping.Cancel();

    internal FakeBuilderCall Record(ServerCallContext context, string? reference, string? sessionId)
    {
        var http = context.GetHttpContext();
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in http.Request.Headers)
        {
            foreach (var value in values)
            {
                headers.Add(new(name, value ?? string.Empty));
            }
        }

        var call = new FakeBuilderCall(
            BuilderName,
            http.Request.Path.Value ?? context.Method,
            string.IsNullOrEmpty(reference) ? null : reference,
            string.IsNullOrEmpty(sessionId) ? null : sessionId,
            http.Request.Host.Value ?? string.Empty,
            http.Connection.Id,
            headers,
            DateTimeOffset.UtcNow);
        _calls.Enqueue(call);
        _changed.Pulse();
        return call;
    }

    internal async Task SessionAsync(IAsyncStreamReader<BytesMessage> requestStream, IServerStreamWriter<BytesMessage> responseStream, ServerCallContext context)
    {
        // StringValues keeps one entry per header field as Kestrel received them: exactly BuildKit's view.
        var headers = context.GetHttpContext().Request.Headers;
        var ids = headers[SessionUuidHeader];
        Record(context, null, ids.Count == 1 ? ids[0] : null);
        _daemon.Enter("Session");
        if (ids.Count != 1 || string.IsNullOrEmpty(ids[0]))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "invalid session id"));
        }

        var sharedKeys = headers[SessionSharedKeyHeader];
        var session = new FakeSession(
            BuilderName,
            ids[0]!,
            sharedKeys.Count > 0 ? sharedKeys[0] : null,
            headers[SessionMethodHeader].Select(m => m ?? string.Empty).ToList(),
            context.GetHttpContext().Connection.Id);
        _sessions[session.Id] = session;
        _allSessions.Enqueue(session);
        _changed.Pulse();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, Stopping);
        var echo = EchoAsync(session, requestStream, responseStream, stop.Token);
        try
        {
            var first = await Task.WhenAny(echo, session.Failed);
            if (first == session.Failed)
            {
                await stop.CancelAsync();
                await echo.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw new RpcException(new Status(StatusCode.Unknown, await session.Failed));
            }

            await echo;
        }
        finally
        {
            session.IsActive = false;
            _sessions.TryRemove(new KeyValuePair<string, FakeSession>(session.Id, session));
            _changed.Pulse();
        }
    }

    internal async Task<SolveResponse> SolveAsync(SolveRequest request, ServerCallContext context)
    {
        var call = Record(context, request.Ref, request.Session);
        _daemon.Enter("Solve");
        var run = Run(request.Ref);
        var exporter = request.Exporters.FirstOrDefault();
        var exporterType = exporter?.Type ?? (request.ExporterDeprecated.Length > 0 ? request.ExporterDeprecated : null);
        var attrs = exporter?.Attrs ?? request.ExporterAttrsDeprecated;
        _solves.Enqueue(new FakeSolveRecord(
            BuilderName,
            request.Ref,
            request.Session,
            exporterType,
            attrs.TryGetValue("name", out var image) ? image : null,
            request.Cache?.Exports.Select(e => e.Attrs.GetValueOrDefault("ref", string.Empty)).ToList() ?? [],
            request.Cache?.Imports.Select(e => e.Attrs.GetValueOrDefault("ref", string.Empty)).ToList() ?? [],
            call.ConnectionId,
            call.ReceivedAt));
        run.SolveArrived = true;
        _changed.Pulse();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, Stopping);
        try
        {
            if (request.Session.Length > 0)
            {
                await RequireSessionAsync(request.Session, stop.Token);
            }

            await RunSolveAsync(run, request, stop.Token);
            return new SolveResponse
            {
                ExporterResponse =
                {
                    ["containerimage.digest"] = Digest(request.Ref),
                    ["x-fake-builder"] = BuilderName,
                },
            };
        }
        finally
        {
            run.Finish();
        }
    }

    internal async Task StatusAsync(StatusRequest request, IServerStreamWriter<StatusResponse> responseStream, ServerCallContext context)
    {
        Record(context, request.Ref, null);
        _daemon.Enter("Status");
        var run = Run(request.Ref);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, Stopping);
        // Like buildkitd, a Status for a ref no Solve has claimed here waits a bounded time for the
        // job, then fails: buildx then prints "failed to receive status: ... no such job".
        if (!await _changed.WaitUntilAsync(() => run.SolveArrived, StatusWaitTimeout, stop.Token))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no such job {request.Ref}"));
        }

        var sent = 0;
        while (true)
        {
            var next = run.Changed.Next;
            var (updates, finished) = run.Read(sent);
            foreach (var update in updates)
            {
                await responseStream.WriteAsync(update, stop.Token);
            }

            sent += updates.Count;
            if (finished)
            {
                return;
            }

            await next.WaitAsync(stop.Token);
        }
    }

    internal async Task<PongResponse> PingAsync(ServerCallContext context)
    {
        var buildId = context.RequestHeaders.Where(h => h.Key == BuildIdMetadata).Select(h => h.Value).ToList();
        Record(context, buildId.Count == 1 ? buildId[0] : null, null);
        _daemon.Enter("Ping");
        if (buildId.Count != 1)
        {
            throw new RpcException(new Status(StatusCode.Unknown, "no buildid found in context"));
        }

        var reference = buildId[0];
        var found = await _changed.WaitUntilAsync(
            () => _runs.TryGetValue(reference, out var run) && run.SolveArrived, BuildIdWaitTimeout, context.CancellationToken);
        if (!found)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"forwarding Ping: no such job {reference}"));
        }

        return new PongResponse
        {
            FrontendAPICaps = { new APICap { ID = "solve.base", Enabled = true } },
            LLBCaps = { new APICap { ID = "source.local", Enabled = true } },
        };
    }

    private async Task RequireSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        FakeSession? session = null;
        var found = await _changed.WaitUntilAsync(() => _sessions.TryGetValue(sessionId, out session), SessionWaitTimeout, cancellationToken);
        if (!found || session is null)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"no active session for {sessionId}: context deadline exceeded"));
        }

        if (!session.ExposesFileSync)
        {
            // buildkitd finds no file-sync method among the session's (verbatim) method names when it
            // reads the context; the build fails and the daemon side of the session goes away.
            session.Fail(NoLocalSourcesMessage);
            throw new RpcException(new Status(StatusCode.Unknown, NoLocalSourcesMessage));
        }
    }

    private async Task RunSolveAsync(FakeBuildRun run, SolveRequest request, CancellationToken cancellationToken)
    {
        lock (_counterLock)
        {
            _runningSolves++;
            _maxConcurrentSolves = Math.Max(_maxConcurrentSolves, _runningSolves);
        }

        _running[run.Ref] = 0;
        _daemon.ActiveBuilds[run.Ref] = DateTimeOffset.UtcNow;
        _changed.Pulse();
        try
        {
            var steps = Steps;
            var plan = FakeSolvePlan.For(request, Cache) ?? FakeSolvePlan.Fixed(steps, run.Ref);
            var started = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
            var first = new StatusResponse();
            foreach (var vertex in plan.Vertexes)
            {
                var reported = vertex.Clone();
                reported.Started = started;
                // Cache hits (and the frontend's quick steps) complete at once; the rest run.
                reported.Completed = vertex.Cached || vertex.Name.StartsWith("[internal]", StringComparison.Ordinal) ? started : null;
                first.Vertexes.Add(reported);
            }

            run.Publish(first);
            if (HoldSolves)
            {
                await run.Released.WaitAsync(cancellationToken);
            }

            if (SolveDuration > TimeSpan.Zero)
            {
                await Task.Delay(SolveDuration, cancellationToken);
            }

            var completed = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
            var last = new StatusResponse();
            foreach (var vertex in first.Vertexes.Where(v => v.Completed is null))
            {
                var done = vertex.Clone();
                done.Completed = completed;
                last.Vertexes.Add(done);
            }

            Cache.AddRange(plan.Keys);
            Solved?.Invoke(steps);
            run.Publish(last);
            Interlocked.Increment(ref _completedSolves);
        }
        finally
        {
            lock (_counterLock)
            {
                _runningSolves--;
            }

            _running.TryRemove(run.Ref, out _);
            _daemon.ActiveBuilds.TryRemove(run.Ref, out _);
            _changed.Pulse();
        }
    }

    private static async Task EchoAsync(FakeSession session, IAsyncStreamReader<BytesMessage> requestStream, IServerStreamWriter<BytesMessage> responseStream, CancellationToken cancellationToken)
    {
        // The real daemon tunnels HTTP/2 through these messages; echoing proves both directions flow.
        while (await requestStream.MoveNext(cancellationToken))
        {
            await responseStream.WriteAsync(requestStream.Current, cancellationToken);
            session.CountEcho();
        }
    }

    private FakeBuildRun Run(string reference) => _runs.GetOrAdd(reference, static r => new FakeBuildRun(r));

    private static string Digest(string text) => FakeSolvePlan.Digest(text);
}
