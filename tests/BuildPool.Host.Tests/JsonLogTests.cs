using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using BuildPool.LocalApi;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Host.Tests;

/// <summary>
/// <c>--log-format json</c>: every line a log pipeline reads is one JSON object with a timestamp,
/// level, logger and message, reconciles carry their object, and a TLS gateway's log never holds
/// its private key.
/// </summary>
public sealed class JsonLogTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("buildpool-logs-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task The_operators_json_log_parses_line_by_line_and_names_the_object_each_reconcile_logs_about()
    {
        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await server.StartAsync();
        var kubeconfig = Path.Combine(_dir.FullName, "kubeconfig");
        server.WriteKubeconfig(kubeconfig);
        await using var op = Cli.Start(_dir.FullName, "operator", "--kubeconfig", kubeconfig, "--metrics-address", $"127.0.0.1:{LoopbackPort.Free()}",
            "--log-format", "json", "--log-level", "debug");
        using var client = server.CreateClient();
        // An invalid spec: the pool reconciler logs a warning inside its reconcile.
        await new ResourceClient<Api.V1Alpha1.BuilderPool>(client).CreateAsync(new Api.V1Alpha1.BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "bad", NamespaceProperty = "default" },
            Spec = new Api.V1Alpha1.BuilderPoolSpec { Cache = new Api.V1Alpha1.CacheSpec { Volume = new Api.V1Alpha1.CacheVolumeTemplate { Size = "10Gi" }, Gc = new Api.V1Alpha1.GcPolicy { MaxUsedSpace = "20Gi" } } },
        });

        await Eventually.WaitAsync(() => Task.FromResult(op.Output), o => o.Contains("Invalid spec", StringComparison.Ordinal), "the pool's invalid-spec warning", TimeSpan.FromMinutes(1));
        Assert.Equal(0, await op.InterruptAsync());

        var lines = Lines(op.Output);
        Assert.NotEmpty(lines);
        var invalid = lines.First(l => l.GetProperty("msg").GetString()!.StartsWith("Invalid spec", StringComparison.Ordinal));
        Assert.Equal("warn", invalid.GetProperty("level").GetString());
        Assert.Equal("BuildPool.Operator.Pools.BuilderPoolReconciler", invalid.GetProperty("logger").GetString());
        Assert.Equal(("BuilderPool", "default", "bad", 1L),
            (invalid.GetProperty("kind").GetString(), invalid.GetProperty("namespace").GetString(), invalid.GetProperty("name").GetString(), invalid.GetProperty("generation").GetInt64()));
        Assert.StartsWith("spec.cache.gc.maxUsedSpace", invalid.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tls_gateways_json_log_at_trace_level_holds_no_private_key_material()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=gateway", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        var certPath = Path.Combine(_dir.FullName, "tls.crt");
        var keyPath = Path.Combine(_dir.FullName, "tls.key");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, keyPem);
        var port = LoopbackPort.Free();

        await using var gateway = Cli.Start(_dir.FullName, "gateway", "--listen", $"127.0.0.1:{port}", "--metrics-address", $"127.0.0.1:{LoopbackPort.Free()}",
            "--backend", "b0=tcp://127.0.0.1:9", "--tls-cert", certPath, "--tls-key", keyPath, "--log-format", "json", "--log-level", "trace");
        await Eventually.WaitAsync(() => Task.FromResult(gateway.Output), o => o.Contains("Gateway listening", StringComparison.Ordinal), "the gateway to listen", TimeSpan.FromMinutes(1));
        await HandshakeAsync(port);
        Assert.Equal(0, await gateway.InterruptAsync());

        var log = gateway.Output + gateway.Error;
        Assert.NotEmpty(Lines(gateway.Output));
        Assert.DoesNotContain("PRIVATE KEY", log, StringComparison.Ordinal);
        var der = Convert.ToBase64String(key.ExportPkcs8PrivateKey());
        // Any 32 characters of the key's base64 would be a leak; the PEM's own lines are 64.
        for (var i = 0; i + 32 <= der.Length; i += 16)
        {
            Assert.DoesNotContain(der.Substring(i, 32), log, StringComparison.Ordinal);
        }
    }

    private static async Task HandshakeAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "gateway",
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await tls.FlushAsync();
    }

    /// <summary>Every non-empty stdout line, parsed: one that is not a JSON object with ts, level, logger and msg fails the test.</summary>
    private static List<JsonElement> Lines(string output)
    {
        var parsed = new List<JsonElement>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var json = JsonDocument.Parse(line).RootElement;
            var ts = json.GetProperty("ts").GetString()!;
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", ts);
            Assert.Contains(json.GetProperty("level").GetString(), new[] { "trace", "debug", "info", "warn", "error", "fatal" });
            Assert.False(string.IsNullOrEmpty(json.GetProperty("logger").GetString()));
            Assert.Equal(JsonValueKind.String, json.GetProperty("msg").ValueKind);
            parsed.Add(json.Clone());
        }

        return parsed;
    }

}
