using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BuildPool.Gateway.Forwarding;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace BuildPool.Gateway.Tests.Forwarding;

/// <summary>Client (our HTTP/2 connection) → Kestrel gateway with GrpcForwarder → Kestrel backend.</summary>
public sealed class GrpcForwarderTests
{
    private const string SessionMethodHeader = "x-docker-expose-session-grpc-method";

    private sealed class Backend
    {
        public ConcurrentQueue<(string Authority, string? Timeout, string[] Methods)> Seen { get; } = new();

        public ConcurrentQueue<byte[]> Bodies { get; } = new();

        public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Map(WebApplication app)
        {
            app.MapPost("/moby.buildkit.v1.Control/Solve", async context =>
            {
                Record(context);
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                Bodies.Enqueue(body.ToArray());
                context.Response.ContentType = "application/grpc";
                context.Response.Headers.Append("x-backend", "one");
                context.Response.Headers.Append("x-backend", "two");
                await context.Response.Body.WriteAsync(body.ToArray());
                context.Response.AppendTrailer("grpc-status", "0");
                context.Response.AppendTrailer("x-trailer", "a");
                context.Response.AppendTrailer("x-trailer", "b");
            });
            app.MapPost("/moby.buildkit.v1.Control/Session", async context =>
            {
                Record(context);
                context.RequestAborted.Register(() => Aborted.TrySetResult());
                context.Response.ContentType = "application/grpc";
                await context.Response.Body.FlushAsync();
                Started.TrySetResult();
                try
                {
                    while (await GrpcWire.ReadMessageAsync(context.Request.BodyReader, context.RequestAborted) is { } message)
                    {
                        await context.Response.Body.WriteAsync(GrpcWire.Frame("daemon saw " + Encoding.UTF8.GetString(message)), context.RequestAborted);
                        await context.Response.Body.FlushAsync(context.RequestAborted);
                    }

                    context.Response.AppendTrailer("grpc-status", "0");
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException)
                {
                    // The gateway reset the stream: that is what the cancellation test wants to see.
                }
            });
        }

        private void Record(HttpContext context) =>
            Seen.Enqueue((context.Request.Host.Value ?? "", context.Request.Headers["grpc-timeout"].ToString(), context.Request.Headers[SessionMethodHeader].Select(v => v ?? "").ToArray()));
    }

    private static Task<KestrelH2c> StartGatewayAsync(DnsEndPoint backend, ConcurrentQueue<GrpcPeekedMessage?>? peeks = null) =>
        KestrelH2c.StartAsync(
            app => app.Run(async context =>
            {
                if (peeks is not null)
                {
                    var peeked = await GrpcForwarder.PeekFirstMessageAsync(context);
                    peeks.Enqueue(peeked is { IsComplete: true } ? peeked : null);
                }

                await context.RequestServices.GetRequiredService<GrpcForwarder>().ForwardAsync(context, backend, "builder-0.buildpool.test");
            }),
            services: services =>
            {
                services.AddSingleton(new Http2ClientPool(new Http2ClientPoolOptions()));
                services.AddSingleton<GrpcForwarder>();
            });

    private static async Task<Http2ClientConnection> ConnectAsync(KestrelH2c server) =>
        await Http2ClientConnection.ConnectAsync(await Http2Connector.ConnectAsync(server.EndPoint, null, CancellationToken.None));

    [Fact]
    public async Task Repeated_session_headers_pass_the_gateway_as_separate_fields_with_body_and_trailers()
    {
        var backend = new Backend();
        await using var backendServer = await KestrelH2c.StartAsync(backend.Map);
        await using var gateway = await StartGatewayAsync(backendServer.EndPoint);
        await using var client = await ConnectAsync(gateway);
        string[] methods = ["/moby.filesync.v1.FileSync/DiffCopy", "/moby.filesync.v1.FileSync/TarStream", "/moby.filesync.v1.Auth/Credentials"];
        var request = GrpcWire.Frame("solve request");

        var stream = await client.StartStreamAsync(
            GrpcWire.Request("gateway.local", "/moby.buildkit.v1.Control/Solve", [("grpc-timeout", "30S"), .. methods.Select(m => (SessionMethodHeader, m))]),
            endStream: false);
        await stream.WriteAsync(request);
        await stream.CompleteRequestAsync();
        var headers = await stream.ReadResponseHeadersAsync().Within();
        var body = await GrpcWire.ReadToEndAsync(stream).Within();
        var trailers = await stream.ReadTrailersAsync().Within();

        var seen = Assert.Single(backend.Seen);
        Assert.Equal(methods, seen.Methods);
        Assert.Equal("30S", seen.Timeout);
        Assert.Equal("builder-0.buildpool.test", seen.Authority);
        Assert.Equal(request, Assert.Single(backend.Bodies));
        Assert.Equal(request, body);
        Assert.Equal(["one", "two"], headers.Where(h => h.Key == "x-backend").Select(h => h.Value));
        Assert.Equal("0", trailers.Get("grpc-status"));
        Assert.Equal(["a", "b"], trailers.Where(h => h.Key == "x-trailer").Select(h => h.Value));
    }

    [Fact]
    public async Task A_bidirectional_session_stream_flows_both_ways_through_the_gateway()
    {
        var backend = new Backend();
        await using var backendServer = await KestrelH2c.StartAsync(backend.Map);
        await using var gateway = await StartGatewayAsync(backendServer.EndPoint);
        await using var client = await ConnectAsync(gateway);

        var stream = await client.StartStreamAsync(GrpcWire.Request("gateway.local", "/moby.buildkit.v1.Control/Session", (SessionMethodHeader, "a"), (SessionMethodHeader, "b")), endStream: false);
        await stream.ReadResponseHeadersAsync().Within();
        for (var i = 0; i < 20; i++)
        {
            await stream.WriteAsync(GrpcWire.Frame($"chunk {i:D2}"));
            var reply = await GrpcWire.ReadExactlyAsync(stream, GrpcWire.Frame($"daemon saw chunk {i:D2}").Length).Within();
            Assert.Equal($"daemon saw chunk {i:D2}", Encoding.UTF8.GetString(reply, 5, reply.Length - 5));
        }

        await stream.CompleteRequestAsync();
        Assert.Equal("0", (await stream.ReadTrailersAsync().Within()).Get("grpc-status"));
        Assert.Equal(["a", "b"], Assert.Single(backend.Seen).Methods);
    }

    [Fact]
    public async Task The_first_message_can_be_peeked_for_routing_and_is_forwarded_unchanged()
    {
        var backend = new Backend();
        var peeks = new ConcurrentQueue<GrpcPeekedMessage?>();
        await using var backendServer = await KestrelH2c.StartAsync(backend.Map);
        await using var gateway = await StartGatewayAsync(backendServer.EndPoint, peeks);
        await using var client = await ConnectAsync(gateway);
        var first = GrpcWire.Frame(Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray());
        var second = GrpcWire.Frame("second");

        var stream = await client.StartStreamAsync(GrpcWire.Request("gateway.local", "/moby.buildkit.v1.Control/Solve"), endStream: false);
        // Split the first message across writes so the peek has to wait for all of it.
        await stream.WriteAsync(first.AsMemory(0, 3));
        await stream.WriteAsync(first.AsMemory(3));
        await stream.WriteAsync(second);
        await stream.CompleteRequestAsync();
        var body = await GrpcWire.ReadToEndAsync(stream).Within();

        Assert.Equal([.. first, .. second], Assert.Single(backend.Bodies));
        Assert.Equal(body, Assert.Single(backend.Bodies));
        Assert.NotNull(Assert.Single(peeks));
    }

    [Fact]
    public async Task An_unreachable_backend_becomes_grpc_UNAVAILABLE()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var deadPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await using var gateway = await StartGatewayAsync(new DnsEndPoint("127.0.0.1", deadPort));
        await using var client = await ConnectAsync(gateway);

        var stream = await client.StartStreamAsync(GrpcWire.Request("gateway.local", "/moby.buildkit.v1.Control/Solve"), endStream: false);
        await stream.WriteAsync(GrpcWire.Frame("x"));
        await stream.CompleteRequestAsync();
        var headers = await stream.ReadResponseHeadersAsync().Within();

        Assert.True(stream.IsTrailersOnly);
        Assert.Equal("14", headers.Get("grpc-status"));
        Assert.Contains("unavailable", Uri.UnescapeDataString(headers.Get("grpc-message") ?? ""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_goes_away_resets_the_upstream_stream()
    {
        var backend = new Backend();
        await using var backendServer = await KestrelH2c.StartAsync(backend.Map);
        await using var gateway = await StartGatewayAsync(backendServer.EndPoint);
        await using var client = await ConnectAsync(gateway);

        var stream = await client.StartStreamAsync(GrpcWire.Request("gateway.local", "/moby.buildkit.v1.Control/Session"), endStream: false);
        await backend.Started.Task.Within();
        stream.Reset(Http2ErrorCode.Cancel);

        await backend.Aborted.Task.Within();
    }
}
