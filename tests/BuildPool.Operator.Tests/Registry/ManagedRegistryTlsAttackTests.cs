using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Registry;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>
/// The managed registry as the operator renders it (its Deployment, ConfigMap and Secrets, read
/// back from the API), run by Debian's docker-registry, attacked with real HTTP clients: on
/// plain HTTP, over TLS without a certificate, and with a tenant's ClientAccess certificate. Only
/// the client keypair the pool's builders mount, and the operator's own client, get in. The
/// read-only listener beside it (isolated forks import there) serves that cache to anyone and
/// takes no write from anyone.
/// </summary>
public sealed class ManagedRegistryTlsAttackTests
{
    private const string Ns = "default";
    private const string Tenant = "team-a";
    private const string ServiceHost = "cache-registry.default.svc";

    [RegistryFact]
    public async Task Nobody_without_the_registrys_client_certificate_can_read_or_write_the_managed_registry_and_the_builders_and_operator_can()
    {
        var volumes = Directory.CreateTempSubdirectory("buildpool-registry-volumes-").FullName;
        try
        {
            await AttackAsync(volumes);
        }
        finally
        {
            Directory.Delete(volumes, recursive: true);
        }
    }

    private static async Task AttackAsync(string volumes)
    {
        RealRegistry? registry = null;
        // The operator dials the registry's Service name; here it is the process started below.
        await using var h = await OperatorHarness.StartAsync(
            new OperatorOptions { RegistryGcInterval = TimeSpan.FromSeconds(2), SecretRefreshInterval = TimeSpan.FromSeconds(2) },
            resolveService: e => e.Host == ServiceHost && registry is { } r ? new IPEndPoint(IPAddress.Loopback, r.Port) : null);
        await new ResourceClient<V1Namespace>(h.Kubernetes).CreateAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Tenant } });
        var pool = PoolTlsTests.Pool("ci", TlsMode.Managed);
        pool.Spec.CacheTargets = [new CacheTargetReference { Name = "cache" }];
        await h.Pools.CreateAsync(pool);
        var targets = new ResourceClient<RegistryCacheTarget>(h.Kubernetes);
        await targets.CreateAsync(new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = "cache", NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec { Ref = "cache/app:{key}", Managed = true },
        });
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(SecretBindingTests.ClientAccess("team-a-ci", "ci"));

        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        var configMaps = new ResourceClient<V1ConfigMap>(h.Kubernetes);
        var deployment = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "cache-registry"), d => d is not null, "the registry Deployment");
        var tenantSecret = await h.WaitAsync(() => secrets.GetAsync(Tenant, "ci-client"), s => s is not null, "the tenant's ClientAccess certificate");

        // Everything the pod mounts, as the API holds it now.
        var mountedSecrets = new Dictionary<string, V1Secret>(StringComparer.Ordinal);
        foreach (var name in deployment!.Spec.Template.Spec.Volumes.Select(v => v.Secret?.SecretName).OfType<string>())
        {
            mountedSecrets[name] = (await secrets.GetAsync(Ns, name))!;
        }

        var mountedConfigMaps = new Dictionary<string, V1ConfigMap>(StringComparer.Ordinal);
        foreach (var name in deployment.Spec.Template.Spec.Volumes.Select(v => v.ConfigMap?.Name).OfType<string>())
        {
            mountedConfigMaps[name] = (await configMaps.GetAsync(Ns, name))!;
        }

        registry = await RealRegistry.StartPodAsync(deployment, n => mountedConfigMaps.GetValueOrDefault(n), n => mountedSecrets.GetValueOrDefault(n), volumes: volumes);
        await using var running = registry;
        var cache = TestCache.Create(DateTimeOffset.UtcNow, [4096], seed: 11);

        // The registry CA, which an attacker may well have (it is no secret): trusting it isolates
        // the question to who the client is.
        using var registryCa = X509Certificate2.CreateFromPem(Text((await secrets.GetAsync(Ns, ManagedRegistry.CaSecret("cache")))!, "ca.crt"));

        // A pod anywhere in the cluster (no enforcing CNI), and an isolated fork: no certificate.
        foreach (var scheme in new[] { "http", "https" })
        {
            using var anonymous = Client(registry, scheme, registryCa, certificate: null);
            await AssertRefusedAsync(anonymous, $"an anonymous client over {scheme}");
        }

        // A tenant with a valid ClientAccess certificate of the pool that uses the registry.
        using var tenantCertificate = X509Certificate2.CreateFromPem(Text(tenantSecret!, "cert.pem"), Text(tenantSecret!, "key.pem"));
        using (var tenant = Client(registry, "https", registryCa, tenantCertificate))
        {
            await AssertRefusedAsync(tenant, "a tenant's ClientAccess certificate");
        }

        // The builders' keypair (the files their buildkitd.toml names) reads and writes.
        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"), d => BuilderKeyPairSecret(d) is not null, "pool ci's builder to mount the registry's client keypair");
        var client = (await secrets.GetAsync(Ns, BuilderKeyPairSecret(builder)!))!;
        using var builderCertificate = X509Certificate2.CreateFromPem(Text(client, "tls.crt"), Text(client, "tls.key"));
        using (var trusted = Client(registry, "https", registryCa, builderCertificate))
        {
            Assert.Equal(HttpStatusCode.OK, await AnswerAsync(trusted, HttpMethod.Get, "v2/"));
            await RegistryPusher.PushAsync(trusted, "cache/app", "main", cache);
            Assert.Equal(HttpStatusCode.OK, await AnswerAsync(trusted, HttpMethod.Get, "v2/cache/app/tags/list"));
        }

        // The pod's read-only listener, on the same storage: an isolated fork (no certificate)
        // pulls what the builders pushed, and neither it nor a builder's keypair writes there.
        await using (var readOnly = await RealRegistry.StartPodAsync(deployment, n => mountedConfigMaps.GetValueOrDefault(n), n => mountedSecrets.GetValueOrDefault(n), ManagedRegistry.ReadOnlyName, volumes))
        {
            using var fork = Client(readOnly, "https", registryCa, certificate: null, ManagedRegistry.ReadOnlyPort);
            await AssertPullsAsync(fork, cache);
            foreach (var certificate in new[] { null, builderCertificate })
            {
                using var writer = Client(readOnly, "https", registryCa, certificate, ManagedRegistry.ReadOnlyPort);
                var who = certificate is null ? "an anonymous client" : "the builders' keypair";
                foreach (var (method, path) in new[] { (HttpMethod.Post, "v2/cache/app/blobs/uploads/"), (HttpMethod.Put, "v2/cache/app/manifests/main"), (HttpMethod.Delete, $"v2/cache/app/manifests/{cache.Digest}") })
                {
                    var answer = await AnswerAsync(writer, method, path);
                    Assert.True(answer == HttpStatusCode.MethodNotAllowed, $"{who}: {method} {path} on the read-only listener was answered {answer} ({(int?)answer}), not refused with 405");
                }
            }

            // Nothing changed: the tag still names the cache the builders pushed.
            await AssertPullsAsync(fork, cache);
        }

        // The operator checks the registry through its Service with its own client.
        await h.SimulateReadyDeploymentsAsync(Ns);
        var ready = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => t?.Status?.Reachable == true && t.Status.TagCount == 1, "the operator to reach the registry over mutual TLS");
        Assert.Contains(ready!.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
    }

    /// <summary>The Secret a builder projects as its managed registry's client keypair (tls.key), or null.</summary>
    private static string? BuilderKeyPairSecret(V1Deployment? builder) =>
        builder?.Spec.Template.Spec.Volumes?
            .SelectMany(v => v.Projected?.Sources ?? [])
            .Select(s => s.Secret)
            .FirstOrDefault(s => s?.Items?.Any(i => i.Key == "tls.key") == true && s.Name == ManagedRegistry.ClientSecret("cache"))?.Name;

    private static string Text(V1Secret secret, string key) => Encoding.UTF8.GetString(secret.Data[key]);

    /// <summary>
    /// A client of the registry at its Service name (as builders and the operator address it),
    /// connected to the local process, presenting <paramref name="certificate"/> whatever CAs the
    /// server asks for (an attacker does not let the client library decide).
    /// </summary>
    private static HttpClient Client(RealRegistry registry, string scheme, X509Certificate2 registryCa, X509Certificate2? certificate, int servicePort = ManagedRegistry.Port)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, registry.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck, CustomTrustStore = { registryCa } },
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!,
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"{scheme}://{ServiceHost}:{servicePort}/"), Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>
    /// Starting a blob upload (the first write of a push), overwriting a tag and listing the
    /// repositories all fail: no answer at all (the TLS handshake is refused), or an error status
    /// (Go's TLS server answers plain HTTP with 400, and nothing behind it runs).
    /// </summary>
    private static async Task AssertRefusedAsync(HttpClient client, string who)
    {
        foreach (var (method, path) in new[] { (HttpMethod.Post, "v2/cache/app/blobs/uploads/"), (HttpMethod.Put, "v2/cache/app/manifests/main"), (HttpMethod.Get, "v2/_catalog") })
        {
            var answer = await AnswerAsync(client, method, path);
            Assert.True(answer is null || (int)answer >= 400, $"{who}: {method} {path} was answered {answer} ({(int?)answer})");
        }
    }

    /// <summary>The tag <c>main</c> of cache/app is <paramref name="cache"/>'s manifest, and every blob it names comes back whole.</summary>
    private static async Task AssertPullsAsync(HttpClient client, TestCache cache)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/cache/app/manifests/main");
        request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue(cache.MediaType));
        using var manifest = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(cache.Manifest, await manifest.Content.ReadAsByteArrayAsync());
        foreach (var blob in cache.Blobs)
        {
            Assert.Equal(blob.Content, await client.GetByteArrayAsync($"v2/cache/app/blobs/{blob.Digest}"));
        }
    }

    /// <summary>The status the registry answered with, or null when it answered nothing (the connection was refused).</summary>
    private static async Task<HttpStatusCode?> AnswerAsync(HttpClient client, HttpMethod method, string path)
    {
        try
        {
            using var request = new HttpRequestMessage(method, path);
            if (method != HttpMethod.Get)
            {
                request.Content = new ByteArrayContent("{}"u8.ToArray());
            }

            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
