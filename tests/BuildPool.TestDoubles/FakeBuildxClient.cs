using System.Globalization;
using System.Net;
using BuildPool.BuildKit.Protocol;
using BuildPool.Http2;
using BuildPool.TestDoubles.Protocol.Frontend;
using Google.Protobuf;
using Grpc.Core;

namespace BuildPool.TestDoubles;

/// <summary>
/// Drives builds the way buildx's remote driver does: optional bootstrap calls on their own
/// connections, then ONE HTTP/2 connection carrying ListWorkers, Status, Session, Solve and
/// LLBBridge/Ping of the build. It speaks through the gateway's <see cref="Http2ClientConnection"/>
/// because that client keeps repeated header fields apart, as grpc-go does; with HttpClient the
/// session's grpc-method fields would be joined and the test could not tell a good proxy from a bad one.
/// With TLS it opens the connection as buildx does (<see cref="ClientTlsStyle.Buildx"/>: no ALPN)
/// unless told to negotiate ALPN h2.
/// </summary>
public sealed class FakeBuildxClient
{
    private const string Control = "/moby.buildkit.v1.Control/";
    private const string PingPath = "/moby.buildkit.v1.frontend.LLBBridge/Ping";

    private readonly Http2TlsOptions? _tls;
    private readonly ClientTlsStyle _tlsStyle;

    /// <param name="tls">Null: h2c. Otherwise TLS, opened as <paramref name="tlsStyle"/> says (by default as real buildx does).</param>
    public FakeBuildxClient(DnsEndPoint endPoint, Http2TlsOptions? tls = null, ClientTlsStyle tlsStyle = ClientTlsStyle.Buildx)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        EndPoint = endPoint;
        _tls = tls;
        _tlsStyle = tlsStyle;
    }

    public DnsEndPoint EndPoint { get; }

    /// <summary>A client for a buildx-style address, <c>tcp://host:port</c>.</summary>
    public static FakeBuildxClient For(string address, Http2TlsOptions? tls = null, ClientTlsStyle tlsStyle = ClientTlsStyle.Buildx)
    {
        var uri = new Uri(address);
        return new FakeBuildxClient(new DnsEndPoint(uri.Host, uri.Port), tls, tlsStyle);
    }

    /// <summary>One <c>Control/Info</c> on its own connection (a bootstrap or health probe).</summary>
    public Task<FakeBuildxCall> InfoAsync(string? authority = null, CancellationToken cancellationToken = default) =>
        OwnConnectionAsync(authority ?? EndPoint.Host, Control + "Info", new InfoRequest(), cancellationToken);

    /// <summary>One <c>Control/ListWorkers</c> on its own connection.</summary>
    public Task<FakeBuildxCall> ListWorkersAsync(string? authority = null, CancellationToken cancellationToken = default) =>
        OwnConnectionAsync(authority ?? EndPoint.Host, Control + "ListWorkers", new ListWorkersRequest(), cancellationToken);

    /// <summary>Runs one build; never throws for a failed call, the result says what failed.</summary>
    public async Task<FakeBuildxResult> BuildAsync(FakeBuildxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FakeBuildxOptions();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        var token = deadline.Token;
        var authority = options.Authority ?? EndPoint.Host;
        var calls = new List<FakeBuildxCall>();
        var vertexes = new Dictionary<string, Vertex>(StringComparer.Ordinal);
        var order = new List<string>();
        var exporterResponse = new Dictionary<string, string>(StringComparer.Ordinal);
        var echoes = 0;

        if (options.Bootstrap)
        {
            calls.Add(await InfoAsync(authority, token));
            calls.Add(await ListWorkersAsync(authority, token));
        }

        Http2ClientConnection connection;
        try
        {
            connection = await ConnectAsync(token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            calls.Add(Failed("ListWorkers", bootstrap: false, ex, token));
            return Result(options, calls, vertexes, order, exporterResponse, echoes);
        }

        await using (connection)
        {
            // grpc-go ends every wait of a call when its context ends, sending HEADERS and
            // waiting for a stream slot included; closing the connection at the deadline does that
            // here, so a gateway that never answers shows as DeadlineExceeded, never as a hang.
            using var abortAtDeadline = token.Register(static c => _ = ((Http2ClientConnection)c!).DisposeAsync().AsTask(), connection);
            calls.Add(await UnaryAsync(connection, authority, Control + "ListWorkers", new ListWorkersRequest(), bootstrap: false, extra: null, token));

            // Status first: buildx subscribes before it solves, so the gateway must hold it until the build is placed.
            using var statusWindow = CancellationTokenSource.CreateLinkedTokenSource(token);
            StartedCall? status = null;
            if (options.SendStatus)
            {
                status = StreamAsync(connection, authority, Control + "Status", [new StatusRequest { Ref = options.Ref }], [], payload =>
                {
                    foreach (var vertex in StatusResponse.Parser.ParseFrom(payload).Vertexes)
                    {
                        lock (vertexes)
                        {
                            if (!vertexes.ContainsKey(vertex.Digest))
                            {
                                order.Add(vertex.Digest);
                            }

                            vertexes[vertex.Digest] = vertex;
                        }
                    }
                }, statusWindow.Token);
                await status.WaitStartedAsync();
            }

            Http2ClientStream? sessionStream = null;
            Task<FakeBuildxCall>? session = null;
            if (options.SendSession)
            {
                (sessionStream, session) = await OpenSessionAsync(connection, authority, options, () => Interlocked.Increment(ref echoes), token);
            }

            StartedCall? solve = null;
            if (options.SendSolve)
            {
                solve = StreamAsync(connection, authority, Control + "Solve", [SolveRequestFor(options)], [], payload =>
                {
                    foreach (var (key, value) in SolveResponse.Parser.ParseFrom(payload).ExporterResponse)
                    {
                        exporterResponse[key] = value;
                    }
                }, token);
                await solve.WaitStartedAsync();
                if (options.OnSolveSent is { } onSolveSent)
                {
                    await onSolveSent();
                }
            }

            if (options.SendPing)
            {
                calls.Add(await UnaryAsync(connection, authority, PingPath, new PingRequest(), bootstrap: false, [new("buildkit-controlapi-buildid", options.Ref)], token));
            }

            if (solve is not null)
            {
                calls.Add(await solve);
            }

            if (status is not null)
            {
                statusWindow.CancelAfter(options.StatusGrace);
                calls.Add(await status);
            }

            if (sessionStream is not null && session is not null)
            {
                try
                {
                    await sessionStream.CompleteRequestAsync();
                }
                catch (Exception ex) when (ex is Http2StreamException or Http2ConnectionException or IOException)
                {
                    // The daemon already ended the session; its status is in the response.
                }

                calls.Add(await session);
            }
        }

        return Result(options, calls, vertexes, order, exporterResponse, Volatile.Read(ref echoes));
    }

    private static FakeBuildxResult Result(
        FakeBuildxOptions options,
        List<FakeBuildxCall> calls,
        Dictionary<string, Vertex> vertexes,
        List<string> order,
        Dictionary<string, string> exporterResponse,
        int echoes)
    {
        var failure = new[] { "Solve", "Ping", "Status", "Session", "ListWorkers" }
            .Select(m => calls.LastOrDefault(c => !c.Bootstrap && c.Method == m))
            .FirstOrDefault(c => c is { Succeeded: false });
        lock (vertexes)
        {
            return new FakeBuildxResult
            {
                Ref = options.Ref,
                SessionId = options.SessionId,
                SharedKey = options.EffectiveSharedKey,
                Calls = calls,
                Status = failure?.Status ?? StatusCode.OK,
                Message = failure?.Message,
                Vertexes = order.Select(d => vertexes[d]).ToList(),
                SessionEchoes = echoes,
                ExporterResponse = exporterResponse,
            };
        }
    }

    private static SolveRequest SolveRequestFor(FakeBuildxOptions options)
    {
        var request = new SolveRequest { Ref = options.Ref, Session = options.SessionId };
        foreach (var (name, value) in options.BuildArgs)
        {
            request.FrontendAttrs.Add("build-arg:" + name, value);
        }

        if (options.NoCache is { } noCache)
        {
            request.FrontendAttrs.Add("no-cache", noCache);
        }

        if (options.Dockerfile is { } dockerfile)
        {
            request.Frontend = "dockerfile.v0";
            request.FrontendAttrs.Add(FakeDockerfile.Attribute, dockerfile.ToJson());
            request.FrontendAttrs.Add(FakeDockerfile.ContextAttribute, options.ContextContentId);
        }

        if (options.ExporterImage is { } image)
        {
            if (options.UseLegacyExporterFields)
            {
                request.ExporterDeprecated = "image";
                request.ExporterAttrsDeprecated.Add("name", image);
                request.ExporterAttrsDeprecated.Add("push", "true");
            }
            else
            {
                request.Exporters.Add(new Exporter { Type = "image", Attrs = { ["name"] = image, ["push"] = "true" } });
            }
        }

        if (options.CacheExports.Count > 0 || options.CacheImports.Count > 0)
        {
            request.Cache = new CacheOptions();
            request.Cache.Exports.AddRange(options.CacheExports.Select(r => new CacheOptionsEntry { Type = "registry", Attrs = { ["ref"] = r, ["mode"] = "max" } }));
            request.Cache.Imports.AddRange(options.CacheImports.Select(r => new CacheOptionsEntry { Type = "registry", Attrs = { ["ref"] = r } }));
        }

        return request;
    }

    private async Task<(Http2ClientStream? Stream, Task<FakeBuildxCall> Call)> OpenSessionAsync(
        Http2ClientConnection connection, string authority, FakeBuildxOptions options, Action onEcho, CancellationToken token)
    {
        var extra = new List<KeyValuePair<string, string>> { new("x-docker-expose-session-uuid", options.SessionId) };
        if (options.EffectiveSharedKey.Length > 0)
        {
            extra.Add(new("x-docker-expose-session-sharedkey", options.EffectiveSharedKey));
        }

        if (options.JoinSessionMethodHeaders)
        {
            extra.Add(new("x-docker-expose-session-grpc-method", string.Join(", ", options.SessionMethods)));
        }
        else
        {
            extra.AddRange(options.SessionMethods.Select(m => new KeyValuePair<string, string>("x-docker-expose-session-grpc-method", m)));
        }

        Http2ClientStream stream;
        try
        {
            stream = await connection.StartStreamAsync(Headers(authority, Control + "Session", extra), endStream: false, token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return (null, Task.FromResult(Failed("Session", bootstrap: false, ex, token)));
        }

        var call = ReadAsync(stream, "Session", bootstrap: false, _ => onEcho(), token);
        try
        {
            foreach (var payload in options.SessionPayloads)
            {
                await stream.WriteAsync(GrpcMessageReader.Frame(new BytesMessage { Data = ByteString.CopyFrom(payload) }.ToByteArray()), token);
            }
        }
        catch (Exception ex) when (ex is Http2StreamException or Http2ConnectionException or IOException)
        {
            // The response says why; ReadAsync reports it.
        }

        return (stream, call);
    }

    private StartedCall StreamAsync(
        Http2ClientConnection connection,
        string authority,
        string path,
        IMessage[] requests,
        IEnumerable<KeyValuePair<string, string>> extra,
        Action<byte[]> onMessage,
        CancellationToken token)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = RunAsync();
        return new StartedCall(started.Task, call);

        async Task<FakeBuildxCall> RunAsync()
        {
            var method = MethodOf(path);
            Http2ClientStream stream;
            try
            {
                stream = await connection.StartStreamAsync(Headers(authority, path, extra), endStream: false, token);
                foreach (var request in requests)
                {
                    await stream.WriteAsync(GrpcMessageReader.Frame(request.ToByteArray()), token);
                }

                await stream.CompleteRequestAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Failed(method, bootstrap: false, ex, token);
            }
            finally
            {
                started.TrySetResult();
            }

            return await ReadAsync(stream, method, bootstrap: false, onMessage, token);
        }
    }

    private async Task<FakeBuildxCall> UnaryAsync(
        Http2ClientConnection connection, string authority, string path, IMessage request, bool bootstrap, IEnumerable<KeyValuePair<string, string>>? extra, CancellationToken token)
    {
        var call = StreamAsync(connection, authority, path, [request], extra ?? [], _ => { }, token);
        var result = await call;
        return result with { Bootstrap = bootstrap };
    }

    private async Task<FakeBuildxCall> OwnConnectionAsync(string authority, string path, IMessage request, CancellationToken token)
    {
        try
        {
            await using var connection = await ConnectAsync(token);
            return await UnaryAsync(connection, authority, path, request, bootstrap: true, extra: null, token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Failed(MethodOf(path), bootstrap: true, ex, token);
        }
    }

    private static async Task<FakeBuildxCall> ReadAsync(Http2ClientStream stream, string method, bool bootstrap, Action<byte[]> onMessage, CancellationToken token)
    {
        await using (stream)
        {
            string? builder = null;
            try
            {
                var headers = await stream.ReadResponseHeadersAsync(token);
                builder = Get(headers, FakeBuildKitDaemon.BuilderHeader);
                if (stream.IsTrailersOnly)
                {
                    return StatusOf(method, bootstrap, stream.StatusCode, headers, builder);
                }

                var reader = new GrpcMessageReader(stream);
                while (await reader.ReadAsync(token) is { } message)
                {
                    onMessage(message);
                }

                return StatusOf(method, bootstrap, stream.StatusCode, await stream.ReadTrailersAsync(token), builder);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Failed(method, bootstrap, ex, token) with { Builder = builder };
            }
        }
    }

    private async Task<Http2ClientConnection> ConnectAsync(CancellationToken token)
    {
        var transport = _tls is not null && _tlsStyle == ClientTlsStyle.Buildx
            ? await BuildxTlsDialer.ConnectAsync(EndPoint, _tls, [], token)
            : await Http2Connector.ConnectAsync(EndPoint, _tls, token);
        return await Http2ClientConnection.ConnectAsync(transport, peerName: $"{EndPoint.Host}:{EndPoint.Port}", cancellationToken: token);
    }

    private List<KeyValuePair<string, string>> Headers(string authority, string path, IEnumerable<KeyValuePair<string, string>> extra)
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new(":method", "POST"),
            new(":scheme", _tls is null || _tlsStyle == ClientTlsStyle.Buildx ? "http" : "https"),
            new(":authority", authority),
            new(":path", path),
            new("content-type", "application/grpc"),
            new("user-agent", "grpc-go/1.59.0"),
            new("te", "trailers"),
        };
        headers.AddRange(extra);
        return headers;
    }

    private static FakeBuildxCall StatusOf(string method, bool bootstrap, int httpStatus, IReadOnlyList<KeyValuePair<string, string>> fields, string? builder)
    {
        if (Get(fields, "grpc-status") is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            var message = Get(fields, "grpc-message") is { } encoded ? Uri.UnescapeDataString(encoded) : null;
            return new FakeBuildxCall(method, bootstrap, (StatusCode)code, message, builder);
        }

        // No gRPC status at all: what grpc-go reports for a non-gRPC answer (e.g. a proxy's 502).
        return new FakeBuildxCall(method, bootstrap, httpStatus == 200 ? StatusCode.Internal : StatusCode.Unavailable, $"no grpc-status (HTTP {httpStatus})", builder);
    }

    private static FakeBuildxCall Failed(string method, bool bootstrap, Exception error, CancellationToken token)
    {
        // Codes as grpc-go maps transport failures, so tests read them like buildx errors.
        var code = error switch
        {
            _ when token.IsCancellationRequested => StatusCode.DeadlineExceeded,
            Http2StreamException { ErrorCode: Http2ErrorCode.Cancel } => StatusCode.Cancelled,
            Http2StreamException { ErrorCode: Http2ErrorCode.RefusedStream } => StatusCode.Unavailable,
            Http2StreamException => StatusCode.Internal,
            _ => StatusCode.Unavailable,
        };
        return new FakeBuildxCall(method, bootstrap, code, error.Message, null);
    }

    private static string MethodOf(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static string? Get(IReadOnlyList<KeyValuePair<string, string>> fields, string name) =>
        fields.FirstOrDefault(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>A call whose request is on the wire (<see cref="WaitStartedAsync"/>) and whose outcome comes later.</summary>
    private sealed class StartedCall(Task started, Task<FakeBuildxCall> outcome)
    {
        public Task WaitStartedAsync() => started;

        public System.Runtime.CompilerServices.TaskAwaiter<FakeBuildxCall> GetAwaiter() => outcome.GetAwaiter();
    }
}
