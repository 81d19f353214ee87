using System.Diagnostics;
using System.Text;
using BuildPool.Gateway.Forwarding;
using BuildPool.Gateway.Tests.Support;
using BuildPool.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace BuildPool.Gateway.Tests.Forwarding;

/// <summary>
/// Bulk transfer with default (large) windows, directly and through the gateway. The build
/// context travels inside the Session stream, so this is the proxy's build-context throughput.
/// Numbers go to the test output; the assertions are about integrity.
/// </summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    private const int Size = 64 * 1024 * 1024;

    private static Task<KestrelH2c> StartSinkAsync() => KestrelH2c.StartAsync(
        app => app.MapPost("/sink", async context =>
        {
            long total = 0;
            var reader = context.Request.BodyReader;
            while (true)
            {
                var result = await reader.ReadAsync();
                total += result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            context.Response.ContentType = "application/grpc";
            await context.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
            context.Response.AppendTrailer("grpc-status", "0");
        }),
        kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.Http2.InitialStreamWindowSize = 16 * 1024 * 1024;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
        });

    private async Task<double> UploadAsync(KestrelH2c target, string label)
    {
        await using var connection = await Http2ClientConnection.ConnectAsync(await Http2Connector.ConnectAsync(target.EndPoint, null, CancellationToken.None));
        var chunk = new byte[256 * 1024];
        Random.Shared.NextBytes(chunk);
        var stopwatch = Stopwatch.StartNew();
        var stream = await connection.StartStreamAsync(GrpcWire.Request("t", "/sink"), endStream: false);
        for (var sent = 0; sent < Size; sent += chunk.Length)
        {
            await stream.WriteAsync(chunk);
        }

        await stream.CompleteRequestAsync();
        var reply = Encoding.UTF8.GetString(await GrpcWire.ReadToEndAsync(stream).Within(60));
        stopwatch.Stop();
        Assert.Equal(Size.ToString(System.Globalization.CultureInfo.InvariantCulture), reply);
        Assert.Equal("0", (await stream.ReadTrailersAsync().Within()).Get("grpc-status"));
        var rate = Size / 1048576.0 / stopwatch.Elapsed.TotalSeconds;
        output.WriteLine($"{label}: 64 MiB in {stopwatch.ElapsedMilliseconds} ms = {rate:F0} MiB/s");
        return rate;
    }

    [Fact]
    public async Task Upload_of_64_MiB_arrives_intact_directly_and_through_the_gateway()
    {
        await using var sink = await StartSinkAsync();
        await using var gateway = await KestrelH2c.StartAsync(
            app => app.Run(context => context.RequestServices.GetRequiredService<GrpcForwarder>().ForwardAsync(context, sink.EndPoint)),
            kestrel =>
            {
                kestrel.Limits.MaxRequestBodySize = null;
                kestrel.Limits.Http2.InitialStreamWindowSize = 16 * 1024 * 1024;
                kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            },
            services =>
            {
                services.AddSingleton(new Http2ClientPool());
                services.AddSingleton<GrpcForwarder>();
            });

        // First rounds warm up the JIT and both servers; the second ones are the measurement.
        await UploadAsync(sink, "direct upload (cold)");
        await UploadAsync(gateway, "upload through the gateway (cold)");
        var direct = await UploadAsync(sink, "direct upload");
        var proxied = await UploadAsync(gateway, "upload through the gateway");

        output.WriteLine($"gateway/direct throughput ratio: {proxied / direct:F2}");
    }

    [Fact]
    public async Task Download_of_64_MiB_with_default_windows_arrives_intact()
    {
        var chunk = new byte[1024 * 1024];
        Random.Shared.NextBytes(chunk);
        await using var server = await KestrelH2c.StartAsync(app => app.MapPost("/source", async context =>
        {
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(chunk);
            }
        }));
        // The first round is cold (JIT, server warm-up).
        foreach (var maxFrameSize in new[] { 16_384, 16_384, 256 * 1024 })
        {
            await using var connection = await Http2ClientConnection.ConnectAsync(
                await Http2Connector.ConnectAsync(server.EndPoint, null, CancellationToken.None),
                new Http2ClientConnectionOptions { MaxFrameSize = maxFrameSize });
            await DownloadAsync(connection, maxFrameSize);
        }
    }

    private async Task DownloadAsync(Http2ClientConnection connection, int maxFrameSize)
    {
        var stopwatch = Stopwatch.StartNew();
        var stream = await connection.StartStreamAsync(GrpcWire.Request("t", "/source"), endStream: true);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        stopwatch.Stop();
        Assert.Equal(Size, total);
        output.WriteLine($"direct download (max frame {maxFrameSize}): 64 MiB in {stopwatch.ElapsedMilliseconds} ms = {Size / 1048576.0 / stopwatch.Elapsed.TotalSeconds:F0} MiB/s");
    }
}
