using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Net;
using BuildPool.Http2;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Forwarding;

/// <summary>
/// Forwards one incoming gRPC call (HTTP/2, <c>application/grpc</c>) to a backend over
/// <see cref="Http2ClientPool"/>, full duplex, so bidirectional streams such as BuildKit's
/// <c>Control/Session</c> work. Request header fields are forwarded one by one: a header that
/// arrived as three fields leaves as three fields (BuildKit reads each
/// <c>X-Docker-Expose-Session-Grpc-Method</c> field as one method name).
/// </summary>
public sealed class GrpcForwarder
{
    internal const int MessagePrefixLength = 5;

    private const int StatusCancelled = 1;
    private const int StatusInternal = 13;
    private const int StatusUnavailable = 14;

    // Connection-specific fields never cross a proxy (RFC 9110 7.6.1, RFC 9113 8.2.2).
    private static readonly FrozenSet<string> HopByHop = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "http2-settings",
        "host",
        "te");

    private readonly Http2ClientPool _pool;
    private readonly ILogger _logger;

    public GrpcForwarder(Http2ClientPool pool, ILogger<GrpcForwarder>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        _pool = pool;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Reads the first gRPC message of the request body (5-byte prefix + message) so the caller
    /// can route on it. The message stays queued for <see cref="ForwardAsync"/>, which sends it
    /// first and unchanged. Returns null when the body ended before any byte. A message larger
    /// than <paramref name="maxMessageSize"/> is not buffered: only its prefix is consumed and
    /// <see cref="GrpcPeekedMessage.IsComplete"/> is false. Calling it again returns the same result.
    /// </summary>
    public static async ValueTask<GrpcPeekedMessage?> PeekFirstMessageAsync(HttpContext context, int maxMessageSize = 4 * 1024 * 1024, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<GrpcPeekedMessage>() is { } existing)
        {
            return existing;
        }

        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= MessagePrefixLength)
            {
                var length = ReadDeclaredLength(buffer);
                if (length > (uint)maxMessageSize)
                {
                    return Keep(context, reader, buffer, MessagePrefixLength, isComplete: false);
                }

                var total = MessagePrefixLength + (int)length;
                if (buffer.Length >= total)
                {
                    return Keep(context, reader, buffer, total, isComplete: true);
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                if (buffer.IsEmpty)
                {
                    reader.AdvanceTo(buffer.End);
                    return null;
                }

                return Keep(context, reader, buffer, (int)buffer.Length, isComplete: false);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static uint ReadDeclaredLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[MessagePrefixLength];
        buffer.Slice(0, MessagePrefixLength).CopyTo(prefix);
        return BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
    }

    private static GrpcPeekedMessage Keep(HttpContext context, System.IO.Pipelines.PipeReader reader, ReadOnlySequence<byte> buffer, int count, bool isComplete)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(count, MessagePrefixLength));
        buffer.Slice(0, count).CopyTo(rented);
        reader.AdvanceTo(buffer.GetPosition(count));
        var peeked = new GrpcPeekedMessage(rented, count, isComplete);
        context.Features.Set(peeked);
        context.Response.RegisterForDispose(peeked);
        return peeked;
    }

    /// <summary>
    /// Forwards the call to <paramref name="backend"/> and completes when the downstream response
    /// is complete. <paramref name="authority"/> becomes the upstream <c>:authority</c> (default:
    /// the incoming one). Upstream connect failures become a gRPC <c>UNAVAILABLE</c> status; a
    /// client that goes away resets the upstream stream. Never throws for upstream or client failures.
    /// </summary>
    public async Task ForwardAsync(HttpContext context, DnsEndPoint backend, string? authority = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(backend);
        DisableLimitsForLongStreams(context);

        var aborted = context.RequestAborted;
        var path = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var headers = BuildRequestHeaders(context.Request, _pool.Scheme, authority, path);

        Http2ClientStream upstream;
        try
        {
            upstream = await _pool.StartStreamAsync(backend, headers, endStream: false, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }
        catch (Http2ConnectionException ex)
        {
            ForwarderLog.BackendUnavailable(_logger, backend, path, ex);
            WriteTrailersOnlyStatus(context.Response, StatusUnavailable, $"backend {backend.Host}:{backend.Port} unavailable: {ex.Message}");
            return;
        }

        await using var ownedUpstream = upstream;
        using var requestPumpStop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        // A client that disappears must not leave work running on the builder.
        await using var onAbort = aborted.UnsafeRegister(static state => ((Http2ClientStream)state!).Reset(Http2ErrorCode.Cancel), upstream);
        var requestPump = PumpRequestAsync(context, upstream, requestPumpStop.Token);
        var sent = new GrpcMessageBoundary();
        try
        {
            await PumpResponseAsync(context, upstream, sent, aborted);
        }
        catch (Exception ex) when (aborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
        {
            ForwarderLog.ClientAborted(_logger, path);
        }
        catch (Exception ex) when (ex is Http2StreamException or Http2ConnectionException)
        {
            ReportUpstreamFailure(context, backend, path, ex, sent);
        }
        finally
        {
            // The response is over: stop reading the client (a bidi client may still be sending).
            await requestPumpStop.CancelAsync();
            await requestPump;
        }
    }

    internal static List<KeyValuePair<string, string>> BuildRequestHeaders(HttpRequest request, string scheme, string? authority, string path)
    {
        var headers = new List<KeyValuePair<string, string>>(request.Headers.Count + 4)
        {
            new(":method", request.Method),
            new(":scheme", scheme),
            new(":authority", authority ?? request.Host.Value ?? string.Empty),
            new(":path", path),
        };

        foreach (var (name, values) in request.Headers)
        {
            if (name.StartsWith(':'))
            {
                continue;
            }

            if (HopByHop.Contains(name))
            {
                // "te: trailers" is the one TE value HTTP/2 allows, and gRPC servers may expect it.
                if (name.Equals("te", StringComparison.OrdinalIgnoreCase) && values.Contains("trailers"))
                {
                    headers.Add(new("te", "trailers"));
                }

                continue;
            }

            // Each value Kestrel received as its own field stays its own field.
            foreach (var value in values)
            {
                headers.Add(new(name, value ?? string.Empty));
            }
        }

        return headers;
    }

    private static async Task PumpRequestAsync(HttpContext context, Http2ClientStream upstream, CancellationToken cancellationToken)
    {
        try
        {
            if (context.Features.Get<GrpcPeekedMessage>() is { } peeked)
            {
                await upstream.WriteAsync(peeked.Consumed, cancellationToken);
            }

            var reader = context.Request.BodyReader;
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                try
                {
                    // Forward straight from Kestrel's buffers: no copy besides the frame write.
                    await upstream.WriteAsync(buffer, cancellationToken);
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted)
                {
                    break;
                }

                if (result.IsCanceled)
                {
                    return;
                }
            }

            await upstream.CompleteRequestAsync();
        }
        catch (OperationCanceledException)
        {
            // The response finished or the client went away; ForwardAsync handles both.
        }
        catch (Exception ex) when (ex is Http2StreamException or Http2ConnectionException)
        {
            // The upstream failed; the response side reports it.
        }
        catch (IOException)
        {
            // Reading the client's body failed: it went away, so the upstream call is pointless.
            upstream.Reset(Http2ErrorCode.Cancel);
        }
    }

    private static async Task PumpResponseAsync(HttpContext context, Http2ClientStream upstream, GrpcMessageBoundary sent, CancellationToken cancellationToken)
    {
        var response = context.Response;
        var headers = await upstream.ReadResponseHeadersAsync(cancellationToken);
        if (response.HasStarted)
        {
            // The gateway already answered with messages of its own (a held build's progress):
            // the builder's headers cannot be sent any more, and a trailers-only answer (an error
            // before any message) becomes the trailers of the response already under way.
            if (upstream.IsTrailersOnly)
            {
                AppendTrailers(response, headers.Where(h => h.Key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)).ToList());
                return;
            }
        }
        else
        {
            response.StatusCode = upstream.StatusCode;
            foreach (var (name, value) in headers)
            {
                if (name.StartsWith(':') || HopByHop.Contains(name))
                {
                    continue;
                }

                response.Headers.Append(name, value);
            }

            if (upstream.IsTrailersOnly)
            {
                // Completing without a body makes Kestrel send HEADERS with END_STREAM: still trailers-only.
                return;
            }
        }

        var writer = response.BodyWriter;
        // Headers go out now: server streams may stay silent for minutes before their first message.
        await writer.FlushAsync(cancellationToken);
        while (true)
        {
            var memory = writer.GetMemory(16 * 1024);
            var read = await upstream.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            sent.Advance(memory.Span[..read]);
            writer.Advance(read);
            // Take whatever else already arrived so one flush carries it, not one flush per frame.
            var batched = read;
            while (batched < 256 * 1024)
            {
                var span = writer.GetSpan(16 * 1024);
                var more = upstream.ReadBuffered(span);
                if (more <= 0)
                {
                    break;
                }

                sent.Advance(span[..more]);
                writer.Advance(more);
                batched += more;
            }

            var flush = await writer.FlushAsync(cancellationToken);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                throw new OperationCanceledException("The client stopped reading the response.");
            }
        }

        AppendTrailers(response, await upstream.ReadTrailersAsync(cancellationToken));
    }

    private static void AppendTrailers(HttpResponse response, IReadOnlyList<KeyValuePair<string, string>> trailers)
    {
        if (trailers.Count > 0 && response.SupportsTrailers())
        {
            foreach (var (name, value) in trailers)
            {
                response.AppendTrailer(name, value);
            }
        }
    }

    private void ReportUpstreamFailure(HttpContext context, DnsEndPoint backend, string path, Exception error, GrpcMessageBoundary sent)
    {
        ForwarderLog.UpstreamFailed(_logger, backend, path, error);
        var response = context.Response;
        if (!response.HasStarted)
        {
            var status = error switch
            {
                Http2StreamException { ErrorCode: Http2ErrorCode.Cancel } => StatusCancelled,
                Http2StreamException { IsRetryable: false, ErrorCode: not Http2ErrorCode.RefusedStream } => StatusInternal,
                _ => StatusUnavailable,
            };
            response.Headers.Clear();
            WriteTrailersOnlyStatus(response, status, error.Message);
            return;
        }

        // The builder's connection is gone (it stopped, its node went away, it flooded us) while
        // the client holds only whole messages: end the call with UNAVAILABLE in the trailers, as
        // before the first message, so buildx says why instead of "stream reset (INTERNAL)".
        if (error is Http2ConnectionException && sent.AtBoundary && response.SupportsTrailers())
        {
            WriteTrailersOnlyStatus(response, StatusUnavailable, $"builder {backend.Host}:{backend.Port} unavailable: {error.Message}");
            return;
        }

        // Otherwise the honest signal is the same one the backend gave us: a stream reset.
        var code = error is Http2StreamException streamError ? streamError.ErrorCode : Http2ErrorCode.InternalError;
        if (context.Features.Get<IHttpResetFeature>() is { } reset)
        {
            reset.Reset((int)code);
        }
        else
        {
            context.Abort();
        }
    }

    // Trailers-only, or in the trailers when the gateway already answered with messages of its own.
    private static void WriteTrailersOnlyStatus(HttpResponse response, int status, string message) =>
        Server.GrpcStatusResponse.Write(response, status, message);

    private static void DisableLimitsForLongStreams(HttpContext context)
    {
        // Builds hold streams open for minutes without bytes and upload whole build contexts;
        // deadlines come from the client's grpc-timeout, not from a request data-rate limit. The
        // server's MinResponseDataRate stays: it counts only time a response waits on the client
        // (HTTP/2 has no per-request response rate anyway).
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRequestRate)
        {
            minRequestRate.MinDataRate = null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }
    }
}
