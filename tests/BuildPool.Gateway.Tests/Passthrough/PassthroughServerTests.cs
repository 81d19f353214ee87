using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Passthrough;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;
using BuildPool.Gateway.Tests.Support;

namespace BuildPool.Gateway.Tests.Passthrough;

/// <summary>
/// <c>--mode passthrough</c>: real TLS clients (SslStream with SNI) through the gateway to
/// builders that terminate TLS themselves (SslStream echo servers).
/// </summary>
public sealed class PassthroughServerTests : IAsyncLifetime
{
    private readonly TlsTestCertificate _certificate = new();
    private readonly List<TlsEchoBackend> _backends = [];

    public Task InitializeAsync()
    {
        for (var i = 0; i < 4; i++)
        {
            _backends.Add(new TlsEchoBackend($"pool-{i}", _certificate));
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        _certificate.Dispose();
    }

    [Fact]
    public async Task Every_connection_for_one_sni_label_reaches_the_same_builder_and_echoes_through()
    {
        await using var gateway = Start();
        using var metrics = new MetricsProbe();
        var builders = new HashSet<string>();

        for (var i = 0; i < 5; i++)
        {
            await using var client = await ConnectAsync(gateway, "proj-a.builds.example.test");
            var payload = Encoding.ASCII.GetBytes($"build {i} of proj-a");
            Assert.Equal(payload, await client.EchoAsync(payload).Within());
            builders.Add(client.Builder);
        }

        var only = Assert.Single(builders);
        Assert.Equal(gateway.Placement.Place("proj-a").Backend!.Id, only);
        Assert.All(_backends.Single(b => b.Name == only).ServerNames, name => Assert.Equal("proj-a.builds.example.test", name));
        await Eventually.TrueAsync(() => metrics.Routed(only) == 5, "five connections counted on the builder");
        Assert.True(metrics.Bytes("upstream") > 5 * 18, "the hello and payload bytes were counted");
    }

    [Fact]
    public async Task Different_labels_spread_over_the_builders()
    {
        await using var gateway = Start();
        var homes = new Dictionary<string, string>();

        for (var i = 0; i < 24; i++)
        {
            await using var client = await ConnectAsync(gateway, $"project-{i}.builds.example.test");
            homes[$"project-{i}"] = client.Builder;
        }

        Assert.True(homes.Values.Distinct().Count() >= 3, string.Join(", ", homes.Select(h => $"{h.Key}→{h.Value}")));
        Assert.All(homes, home => Assert.Equal(gateway.Placement.Place(home.Key).Backend!.Id, home.Value));
    }

    [Fact]
    public async Task A_connection_without_a_key_goes_to_the_least_loaded_ready_builder_and_counts_as_a_build()
    {
        await using var gateway = Start(_backends.Take(2));
        await using var held = await ConnectAsync(gateway, "proj-a.builds.example.test");
        await Eventually.TrueAsync(() => gateway.Placement.LoadOn(held.Builder) == 1, "the open connection counted as a build");

        await using var noSni = await ConnectAsync(gateway, serverName: null);
        await using var outsideDomain = await ConnectAsync(gateway, "gateway.elsewhere.test");

        Assert.NotEqual(held.Builder, noSni.Builder);
        Assert.Contains(outsideDomain.Builder, _backends.Take(2).Select(b => b.Name));
        Assert.Equal([string.Empty], _backends.Single(b => b.Name == noSni.Builder).ServerNames.Take(1));
    }

    [Fact]
    public async Task A_draining_builder_gets_no_new_connection_while_its_open_one_keeps_working()
    {
        await using var gateway = Start();
        await using var before = await ConnectAsync(gateway, "proj-a.builds.example.test");
        var home = before.Builder;

        gateway.SetBackends(_backends.Select(b => Parse(b.Name == home ? b.Argument + ",state=draining" : b.Argument)));
        await using var after = await ConnectAsync(gateway, "proj-a.builds.example.test");

        Assert.NotEqual(home, after.Builder);
        var payload = Encoding.ASCII.GetBytes("still building");
        Assert.Equal(payload, await before.EchoAsync(payload).Within());
    }

    [Fact]
    public async Task Malformed_and_stalled_hellos_close_only_their_own_connection()
    {
        await using var gateway = Start(passthrough: new PassthroughOptions { HelloTimeout = TimeSpan.FromMilliseconds(500) });
        await using var good = await ConnectAsync(gateway, "proj-a.builds.example.test");

        using var garbage = await RawAsync(gateway);
        await garbage.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None);
        var answer = await ReadToEndAsync(garbage).Within();

        using var broken = await RawAsync(gateway);
        var hello = await ClientHelloCapture.CaptureAsync("proj-a.builds.example.test");
        hello[9] = 7; // legacy_version 7.x
        await broken.SendAsync(hello, SocketFlags.None);
        await ReadToEndAsync(broken).Within();

        using var stalled = await RawAsync(gateway);
        await stalled.SendAsync(hello.AsMemory(0, 20), SocketFlags.None);
        await ReadToEndAsync(stalled).Within();

        // The gateway answered the garbage with a fatal TLS alert (decode_error) and closed.
        Assert.Equal(new byte[] { 21, 3, 3, 0, 2, 2, 50 }, answer);
        var payload = Encoding.ASCII.GetBytes("unharmed");
        Assert.Equal(payload, await good.EchoAsync(payload).Within());
        // None of the broken connections ever reached a builder.
        Assert.Equal(1, _backends.Sum(b => b.ServerNames.Count));
    }

    [Fact]
    public async Task An_untrusted_sni_key_is_refused_with_access_denied_and_never_reaches_a_builder()
    {
        await using var gateway = Start(options: o => o with { UntrustedKeys = ["pr-*"] });

        using var untrusted = await RawAsync(gateway);
        await untrusted.SendAsync(await ClientHelloCapture.CaptureAsync("pr-1234.builds.example.test"), SocketFlags.None);
        var answer = await ReadToEndAsync(untrusted).Within();

        // A spliced connection cannot go to an isolated fork, so it goes nowhere.
        Assert.Equal(new byte[] { 21, 3, 3, 0, 2, 2, 49 }, answer);
        Assert.Equal(0, _backends.Sum(b => b.ServerNames.Count));

        await using var trusted = await ConnectAsync(gateway, "main.builds.example.test");
        var payload = Encoding.ASCII.GetBytes("trusted");
        Assert.Equal(payload, await trusted.EchoAsync(payload).Within());
    }

    [Fact]
    public async Task Untrusted_keys_swapped_in_by_discovery_apply_to_the_next_connection()
    {
        await using var gateway = Start();
        await using (var before = await ConnectAsync(gateway, "pr-7.builds.example.test"))
        {
            Assert.Equal("x"u8.ToArray(), await before.EchoAsync("x"u8.ToArray()).Within());
        }

        ((IBackendTarget)gateway).Isolation.SetUntrustedKeys(["pr-*"]);

        using var after = await RawAsync(gateway);
        await after.SendAsync(await ClientHelloCapture.CaptureAsync("pr-7.builds.example.test"), SocketFlags.None);
        Assert.Equal(new byte[] { 21, 3, 3, 0, 2, 2, 49 }, await ReadToEndAsync(after).Within());
        Assert.Equal(1, _backends.Sum(b => b.ServerNames.Count));
    }

    [Fact]
    public async Task A_half_closed_client_still_receives_the_builders_answer()
    {
        // A builder that reads to the end of input, then answers with the byte count: only a
        // half-close passed on by the gateway lets it see the end while the reply can still flow.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var buffer = new byte[4096];
            long total = 0;
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                total += read;
            }

            await socket.SendAsync(Encoding.ASCII.GetBytes(total.ToString(System.Globalization.CultureInfo.InvariantCulture)), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
        });
        await using var gateway = Start(backends: [Parse($"counter=tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}")]);
        var hello = await ClientHelloCapture.CaptureAsync("proj-a.builds.example.test");

        using var client = await RawAsync(gateway);
        await client.SendAsync(hello, SocketFlags.None);
        await client.SendAsync(new byte[100_000], SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        var reply = Encoding.ASCII.GetString(await ReadToEndAsync(client).Within());

        await serving.Within();
        Assert.Equal((hello.Length + 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture), reply);
        await Eventually.TrueAsync(() => gateway.OpenConnections == 0 && gateway.Placement.LoadOn("counter") == 0, "the connection and its load are gone");
    }

    [Fact]
    public async Task Stopping_a_gateway_that_waits_for_its_next_connection_completes_without_an_error()
    {
        // StopAsync closes the listener before it cancels the stop token: an accept loop woken in
        // between used to take that for an accept failure, accept again and throw
        // ObjectDisposedException out of StopAsync (one stop in thousands, the half-close test's
        // flake). A thousand stops, a hundred at a time on the thread pool, failed this test in
        // each of 5 runs before the fix.
        for (var round = 0; round < 10; round++)
        {
            var gateways = Enumerable.Range(0, 100).Select(_ => Start([])).ToList();
            try
            {
                await Task.WhenAll(gateways.Select(g => Task.Run(() => g.StopAsync()))).Within(30);
            }
            finally
            {
                foreach (var gateway in gateways)
                {
                    await gateway.DisposeAsync();
                }
            }
        }
    }

    [Fact]
    public async Task Stopping_refuses_new_connections_and_lets_open_ones_finish()
    {
        var gateway = Start(options: o => o with { ShutdownTimeout = TimeSpan.FromMinutes(1) });
        var open = await ConnectAsync(gateway, "proj-a.builds.example.test");

        var stopping = gateway.StopAsync();
        await Assert.ThrowsAnyAsync<SocketException>(() => RawAsync(gateway)).Within();
        var payload = Encoding.ASCII.GetBytes("finishing");
        Assert.Equal(payload, await open.EchoAsync(payload).Within());
        Assert.False(stopping.IsCompleted);

        await open.DisposeAsync();
        await stopping.Within();
        await gateway.DisposeAsync();
        Assert.Equal(0, gateway.OpenConnections);
    }

    [Fact]
    public async Task Connections_still_open_after_the_shutdown_timeout_are_cut()
    {
        var gateway = Start(options: o => o with { ShutdownTimeout = TimeSpan.FromMilliseconds(200) });
        await using var open = await ConnectAsync(gateway, "proj-a.builds.example.test");

        await gateway.StopAsync().Within();

        await Assert.ThrowsAnyAsync<Exception>(() => open.EchoAsync(new byte[16])).Within();
        await gateway.DisposeAsync();
    }

    private PassthroughServer Start(
        IEnumerable<TlsEchoBackend>? backends = null,
        PassthroughOptions? passthrough = null,
        Func<GatewayOptions, GatewayOptions>? options = null) =>
        Start((backends ?? _backends).Select(b => Parse(b.Argument)).ToList(), passthrough, options);

    private static PassthroughServer Start(IReadOnlyList<StaticBackend> backends, PassthroughOptions? passthrough = null, Func<GatewayOptions, GatewayOptions>? options = null)
    {
        var gatewayOptions = new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Backends = backends,
            Domain = TlsTestCertificate.Domain,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        };
        return PassthroughServer.Start(options?.Invoke(gatewayOptions) ?? gatewayOptions, passthrough: passthrough);
    }

    private static PassthroughServer Start(StaticBackend[] backends) => Start((IReadOnlyList<StaticBackend>)backends);

    private static StaticBackend Parse(string argument) => StaticBackendParser.Parse(argument);

    private Task<TlsTestClient> ConnectAsync(PassthroughServer gateway, string? serverName) =>
        TlsTestClient.ConnectAsync(gateway.EndPoint, serverName, _certificate).Within();

    private static async Task<Socket> RawAsync(PassthroughServer gateway)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(gateway.EndPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        return [.. received];
    }

    // Reads the passthrough instruments the way an exporter would.
    private sealed class MetricsProbe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _routed = [];
        private readonly Dictionary<string, long> _bytes = [];
        private readonly Lock _lock = new();

        public MetricsProbe()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GatewayMetrics.MeterName && instrument.Name.StartsWith("buildpool_gateway_passthrough_", StringComparison.Ordinal))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var target = instrument.Name switch
                {
                    "buildpool_gateway_passthrough_connections" => (_routed, "backend"),
                    "buildpool_gateway_passthrough_bytes" => (_bytes, "direction"),
                    _ => (null, null),
                };
                if (target.Item1 is not { } counts)
                {
                    return;
                }

                foreach (var tag in tags)
                {
                    if (tag.Key == target.Item2 && tag.Value is string label)
                    {
                        lock (_lock)
                        {
                            counts[label] = counts.GetValueOrDefault(label) + value;
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Routed(string builder)
        {
            lock (_lock)
            {
                return _routed.GetValueOrDefault(builder);
            }
        }

        public long Bytes(string direction)
        {
            lock (_lock)
            {
                return _bytes.GetValueOrDefault(direction);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
