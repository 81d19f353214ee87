using System.Diagnostics;
using System.Net;
using System.Text;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xunit.Abstractions;

namespace BuildPool.Gateway.Tests.Http2;

public sealed class Http2ClientConnectionKestrelTests(ITestOutputHelper output)
{
    private const string SessionMethodHeader = "x-docker-expose-session-grpc-method";
    private const int SixtyFourMiB = 64 * 1024 * 1024;

    private static async Task<Http2ClientConnection> ConnectAsync(KestrelH2c server, Http2ClientConnectionOptions? options = null)
    {
        var transport = await Http2Connector.ConnectAsync(server.EndPoint, null, CancellationToken.None);
        return await Http2ClientConnection.ConnectAsync(transport, options);
    }

    private static List<KeyValuePair<string, string>> Request(KestrelH2c server, string path, params (string, string)[] extra) =>
        GrpcWire.Request($"127.0.0.1:{server.Port}", path, extra);

    private static async Task EchoAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        context.Response.ContentType = "application/grpc";
        await context.Response.Body.WriteAsync(body.ToArray());
        context.Response.AppendTrailer("grpc-status", "0");
        context.Response.AppendTrailer("grpc-message", "echoed");
    }

    [Fact]
    public async Task Repeated_header_fields_reach_Kestrel_as_separate_values_while_HttpClient_joins_them()
    {
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/headers", context =>
        {
            var values = context.Request.Headers[SessionMethodHeader];
            return context.Response.WriteAsync(string.Join("\n", values.Select(v => $"[{v}]")));
        }));
        string[] methods = ["/moby.filesync.v1.FileSync/DiffCopy", "/moby.filesync.v1.FileSync/TarStream", "/moby.filesync.v1.Auth/Credentials"];

        await using var connection = await ConnectAsync(server);
        var stream = await connection.StartStreamAsync(Request(server, "/headers", methods.Select(m => (SessionMethodHeader, m)).ToArray()), endStream: true);
        var ours = Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(stream));

        Assert.Equal(string.Join("\n", methods.Select(m => $"[{m}]")), ours);

        // The trap this client exists for: HttpClient (and so YARP and Grpc.Net.Client) sends the
        // three values as ONE field "a, b, c", which BuildKit reads as one unknown method name.
        using var httpClient = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseUri, "/headers"));
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        request.Headers.TryAddWithoutValidation(SessionMethodHeader, methods);
        using var response = await httpClient.SendAsync(request);
        var theirs = await response.Content.ReadAsStringAsync();

        Assert.Equal($"[{string.Join(", ", methods)}]", theirs);
    }

    [Fact]
    public async Task Unary_call_echoes_the_request_and_delivers_grpc_status_trailers()
    {
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/echo", EchoAsync));
        await using var connection = await ConnectAsync(server);
        var message = GrpcWire.Frame("hello buildkit");

        var stream = await connection.StartStreamAsync(Request(server, "/echo"), endStream: false);
        await stream.WriteAsync(message);
        await stream.CompleteRequestAsync();
        var headers = await stream.ReadResponseHeadersAsync().Within();
        var body = await GrpcWire.ReadToEndAsync(stream).Within();
        var trailers = await stream.ReadTrailersAsync().Within();

        Assert.Equal(200, stream.StatusCode);
        Assert.Equal("application/grpc", headers.Get("content-type"));
        Assert.Equal(message, body);
        Assert.Equal("0", trailers.Get("grpc-status"));
        Assert.Equal("echoed", trailers.Get("grpc-message"));
    }

    [Fact]
    public async Task Trailers_only_response_carries_the_status_in_its_headers()
    {
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/fail", context =>
        {
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "5";
            return Task.CompletedTask;
        }));
        await using var connection = await ConnectAsync(server);

        var stream = await connection.StartStreamAsync(Request(server, "/fail"), endStream: true);
        var headers = await stream.ReadResponseHeadersAsync().Within();

        Assert.True(stream.IsTrailersOnly);
        Assert.Equal("5", headers.Get("grpc-status"));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]));
        Assert.Empty(await stream.ReadTrailersAsync().Within());
    }

    [Fact]
    public async Task Server_streaming_delivers_thousands_of_messages_in_order()
    {
        const int Count = 5000;
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/stream", async context =>
        {
            context.Response.ContentType = "application/grpc";
            for (var i = 0; i < Count; i++)
            {
                await context.Response.Body.WriteAsync(GrpcWire.Frame($"message {i:D6}"));
                await context.Response.Body.FlushAsync();
            }

            context.Response.AppendTrailer("grpc-status", "0");
        }));
        await using var connection = await ConnectAsync(server);

        var stream = await connection.StartStreamAsync(Request(server, "/stream"), endStream: true);
        await stream.ReadResponseHeadersAsync().Within();
        var expectedLength = GrpcWire.Frame("message 000000").Length;
        for (var i = 0; i < Count; i++)
        {
            var framed = await GrpcWire.ReadExactlyAsync(stream, expectedLength).Within();
            Assert.Equal($"message {i:D6}", Encoding.UTF8.GetString(framed, 5, framed.Length - 5));
        }

        Assert.Equal(0, await stream.ReadAsync(new byte[1]));
        Assert.Equal("0", (await stream.ReadTrailersAsync().Within()).Get("grpc-status"));
    }

    [Fact]
    public async Task Bidirectional_stream_exchanges_messages_while_both_directions_stay_open()
    {
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/session", async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.FlushAsync();
            while (await GrpcWire.ReadMessageAsync(context.Request.BodyReader) is { } message)
            {
                await context.Response.Body.WriteAsync(GrpcWire.Frame("pong " + Encoding.UTF8.GetString(message)));
                await context.Response.Body.FlushAsync();
            }

            context.Response.AppendTrailer("grpc-status", "0");
        }));
        await using var connection = await ConnectAsync(server);

        var stream = await connection.StartStreamAsync(Request(server, "/session"), endStream: false);
        await stream.ReadResponseHeadersAsync().Within();
        for (var i = 0; i < 50; i++)
        {
            // Each reply arrives before the next request is written: both sides are open at once.
            await stream.WriteAsync(GrpcWire.Frame($"ping {i:D2}"));
            var reply = await GrpcWire.ReadExactlyAsync(stream, GrpcWire.Frame($"pong ping {i:D2}").Length).Within();
            Assert.Equal($"pong ping {i:D2}", Encoding.UTF8.GetString(reply, 5, reply.Length - 5));
        }

        await stream.CompleteRequestAsync();
        Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().Within());
        Assert.Equal("0", (await stream.ReadTrailersAsync().Within()).Get("grpc-status"));
    }

    [Fact]
    public async Task Upload_of_64_MiB_through_a_small_server_window_never_exceeds_the_window()
    {
        const int ServerWindow = 65_535;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long consumed = 0;
        await using var server = await KestrelH2c.StartAsync(
            app => app.MapPost("/upload", async context =>
            {
                await gate.Task;
                var reader = context.Request.BodyReader;
                ulong sum = 0;
                while (true)
                {
                    var result = await reader.ReadAsync();
                    foreach (var segment in result.Buffer)
                    {
                        foreach (var b in segment.Span)
                        {
                            sum += b;
                        }
                    }

                    // Count before advancing: only advancing lets Kestrel grant more window.
                    Interlocked.Add(ref consumed, result.Buffer.Length);
                    reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }

                await context.Response.WriteAsync($"{Interlocked.Read(ref consumed)} {sum}");
            }),
            kestrel =>
            {
                kestrel.Limits.Http2.InitialStreamWindowSize = ServerWindow;
                kestrel.Limits.Http2.InitialConnectionWindowSize = ServerWindow;
                kestrel.Limits.MaxRequestBodySize = null;
            });
        await using var connection = await ConnectAsync(server);
        var chunk = Enumerable.Range(0, 1024 * 1024).Select(i => (byte)((i * 31) + 7)).ToArray();
        var expectedSum = (ulong)chunk.Sum(b => (long)b) * 64;

        var stream = await connection.StartStreamAsync(Request(server, "/upload"), endStream: false);
        long sent = 0;
        long maxInFlight = 0;
        var stopwatch = new Stopwatch();
        var upload = Task.Run(async () =>
        {
            for (var i = 0; i < 64; i++)
            {
                for (var offset = 0; offset < chunk.Length; offset += 64 * 1024)
                {
                    await stream.WriteAsync(chunk.AsMemory(offset, 64 * 1024));
                    Interlocked.Add(ref sent, 64 * 1024);
                    maxInFlight = Math.Max(maxInFlight, Interlocked.Read(ref sent) - Interlocked.Read(ref consumed));
                }
            }

            await stream.CompleteRequestAsync();
        });

        // The server reads nothing yet: the writer must stall at the window.
        await Eventually.TrueAsync(() => stream.WindowWaitCount > 0, "the upload blocks on flow control");
        Assert.True(Interlocked.Read(ref sent) <= ServerWindow, $"sent {sent} before the server read anything");
        stopwatch.Start();
        gate.SetResult();
        await upload.Within(120);
        var reply = Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(stream).Within(60));
        stopwatch.Stop();

        Assert.Equal($"{SixtyFourMiB} {expectedSum}", reply);
        Assert.True(maxInFlight <= ServerWindow, $"{maxInFlight} bytes in flight exceeds the {ServerWindow} window");
        output.WriteLine($"upload: 64 MiB in {stopwatch.ElapsedMilliseconds} ms = {SixtyFourMiB / 1048576.0 / stopwatch.Elapsed.TotalSeconds:F0} MiB/s through a {ServerWindow} byte window; writer waited {stream.WindowWaitCount} times");
    }

    [Fact]
    public async Task Download_of_64_MiB_through_a_small_client_window_is_paced_by_the_slow_reader()
    {
        const int ClientWindow = 65_535;
        var chunk = Enumerable.Range(0, 1024 * 1024).Select(i => (byte)((i * 13) + 1)).ToArray();
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/download", async context =>
        {
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(chunk);
            }

            context.Response.AppendTrailer("grpc-status", "0");
        }));
        await using var connection = await ConnectAsync(server, new Http2ClientConnectionOptions { InitialStreamWindowSize = ClientWindow });

        var stream = await connection.StartStreamAsync(Request(server, "/download"), endStream: true);
        await stream.ReadResponseHeadersAsync().Within();
        // Not reading yet: the server fills the window and must then stop.
        await Eventually.TrueAsync(() => stream.MaxBufferedBytes >= ClientWindow - 16_384, "the server fills the receive window");
        Assert.True(stream.MaxBufferedBytes <= ClientWindow);

        var stopwatch = Stopwatch.StartNew();
        var buffer = new byte[16 * 1024];
        long total = 0;
        var position = 0;
        var intact = true;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                intact &= buffer[i] == chunk[(position + i) % chunk.Length];
            }

            position = (position + read) % chunk.Length;
            total += read;
        }

        stopwatch.Stop();
        Assert.Equal(SixtyFourMiB, total);
        Assert.True(intact, "downloaded bytes differ from what the server wrote");
        Assert.True(stream.MaxBufferedBytes <= ClientWindow, $"{stream.MaxBufferedBytes} bytes buffered exceeds the {ClientWindow} window");
        Assert.Equal("0", (await stream.ReadTrailersAsync().Within()).Get("grpc-status"));
        output.WriteLine($"download: 64 MiB in {stopwatch.ElapsedMilliseconds} ms = {SixtyFourMiB / 1048576.0 / stopwatch.Elapsed.TotalSeconds:F0} MiB/s through a {ClientWindow} byte window");
    }

    [Fact]
    public async Task Cancelling_a_read_resets_the_stream_and_the_server_observes_RequestAborted()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await KestrelH2c.StartAsync(app =>
        {
            app.MapPost("/hang", async context =>
            {
                context.RequestAborted.Register(() => aborted.TrySetResult());
                started.TrySetResult();
                await aborted.Task;
            });
            app.MapPost("/echo", EchoAsync);
        });
        await using var connection = await ConnectAsync(server);

        var stream = await connection.StartStreamAsync(Request(server, "/hang"), endStream: false);
        await started.Task.Within();
        using var cancel = new CancellationTokenSource();
        var headers = stream.ReadResponseHeadersAsync(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => headers);
        await aborted.Task.Within();
        await Assert.ThrowsAsync<Http2StreamException>(() => stream.ReadAsync(new byte[1]).AsTask());

        // Only that stream is gone.
        var other = await connection.StartStreamAsync(Request(server, "/echo"), endStream: false);
        await other.CompleteRequestAsync();
        Assert.Equal("0", (await other.ReadTrailersAsync().Within()).Get("grpc-status"));
    }

    [Fact]
    public async Task A_reset_from_the_server_fails_only_that_stream()
    {
        await using var server = await KestrelH2c.StartAsync(app =>
        {
            app.MapPost("/reset", context =>
            {
                context.Features.Get<IHttpResetFeature>()!.Reset((int)Http2ErrorCode.EnhanceYourCalm);
                return Task.CompletedTask;
            });
            app.MapPost("/echo", EchoAsync);
        });
        await using var connection = await ConnectAsync(server);

        var doomed = await connection.StartStreamAsync(Request(server, "/reset"), endStream: true);
        var error = await Assert.ThrowsAsync<Http2StreamException>(() => doomed.ReadResponseHeadersAsync().Within());

        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, error.ErrorCode);
        var healthy = await connection.StartStreamAsync(Request(server, "/echo"), endStream: true);
        Assert.Equal("0", (await healthy.ReadTrailersAsync().Within()).Get("grpc-status"));
        Assert.True(connection.IsAvailable);
    }

    [Fact]
    public async Task GOAWAY_from_a_stopping_server_refuses_new_streams_and_lets_open_ones_finish()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/hold", async context =>
        {
            started.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync("finished");
        }));
        await using var connection = await ConnectAsync(server);
        var held = await connection.StartStreamAsync(Request(server, "/hold"), endStream: true);
        await started.Task.Within();

        var stopping = server.App.StopAsync();
        await Eventually.TrueAsync(() => !connection.IsAvailable, "the client saw GOAWAY");
        var refused = await Assert.ThrowsAsync<Http2ConnectionException>(() => connection.StartStreamAsync(Request(server, "/hold"), endStream: true));
        release.SetResult();

        Assert.True(refused.IsRetryable);
        Assert.Equal("finished", Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(held).Within()));
        output.WriteLine("held done");
        // The server closes at once after its last stream; 5 s was too tight for a loaded machine.
        await connection.Completion.Within(30);
        output.WriteLine("connection closed");
        await stopping.Within();
    }

    [Fact]
    public async Task Streams_beyond_SETTINGS_MAX_CONCURRENT_STREAMS_use_a_second_pooled_connection()
    {
        var running = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await KestrelH2c.StartAsync(
            app => app.MapPost("/hold", async context =>
            {
                Interlocked.Increment(ref running);
                await release.Task;
                await context.Response.WriteAsync("ok");
            }),
            kestrel => kestrel.Limits.Http2.MaxStreamsPerConnection = 2);
        await using var pool = new Http2ClientPool(new Http2ClientPoolOptions { MaxConnectionsPerBackend = 2 });
        var headers = Request(server, "/hold");

        var streams = new List<Http2ClientStream>();
        for (var i = 0; i < 3; i++)
        {
            streams.Add(await pool.StartStreamAsync(server.EndPoint, headers, endStream: true).Within());
        }

        await Eventually.TrueAsync(() => Volatile.Read(ref running) == 3, "three requests run at once");
        Assert.Equal(2, pool.GetConnectionCount(server.EndPoint));
        release.SetResult();
        foreach (var stream in streams)
        {
            Assert.Equal("ok", Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(stream).Within()));
        }
    }

    [Fact]
    public async Task The_pool_retires_a_broken_connection_and_opens_a_fresh_one()
    {
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/echo", EchoAsync));
        var transports = new List<Stream>();
        await using var pool = new Http2ClientPool(new Http2ClientPoolOptions
        {
            ConnectCallback = async (endPoint, cancellationToken) =>
            {
                var transport = await Http2Connector.ConnectAsync(endPoint, null, cancellationToken);
                lock (transports)
                {
                    transports.Add(transport);
                }

                return transport;
            },
        });
        var first = await pool.StartStreamAsync(server.EndPoint, Request(server, "/echo"), endStream: true);
        Assert.Equal("0", (await first.ReadTrailersAsync().Within()).Get("grpc-status"));

        await transports[0].DisposeAsync();
        var second = await pool.StartStreamAsync(server.EndPoint, Request(server, "/echo"), endStream: true).Within();

        Assert.Equal("0", (await second.ReadTrailersAsync().Within()).Get("grpc-status"));
        Assert.Equal(2, transports.Count);
        Assert.Equal(1, pool.GetConnectionCount(server.EndPoint));
    }

    [Fact]
    public async Task Streams_beyond_the_limit_queue_when_no_further_connection_is_allowed()
    {
        var running = 0;
        var releases = Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        await using var server = await KestrelH2c.StartAsync(
            app => app.MapPost("/hold/{n:int}", async (HttpContext context, int n) =>
            {
                Interlocked.Increment(ref running);
                await releases[n].Task;
                await context.Response.WriteAsync("ok");
            }),
            kestrel => kestrel.Limits.Http2.MaxStreamsPerConnection = 2);
        await using var pool = new Http2ClientPool(new Http2ClientPoolOptions { MaxConnectionsPerBackend = 1 });

        var first = await pool.StartStreamAsync(server.EndPoint, Request(server, "/hold/0"), endStream: true).Within();
        var second = await pool.StartStreamAsync(server.EndPoint, Request(server, "/hold/1"), endStream: true).Within();
        await Eventually.TrueAsync(() => Volatile.Read(ref running) == 2, "two requests run");
        var third = pool.StartStreamAsync(server.EndPoint, Request(server, "/hold/2"), endStream: true);

        Assert.False(third.IsCompleted, "the third stream must wait for a free slot");
        releases[0].SetResult();
        Assert.Equal("ok", Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(first).Within()));
        var thirdStream = await third.Within();
        releases[1].SetResult();
        releases[2].SetResult();

        Assert.Equal("ok", Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(second).Within()));
        Assert.Equal("ok", Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(thirdStream).Within()));
        Assert.Equal(1, pool.GetConnectionCount(server.EndPoint));
    }
}
