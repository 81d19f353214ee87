using System.Collections.Concurrent;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// The operator holds in memory only the Secrets it made and the Secrets pools and bindings name:
/// never a ServiceAccount token or another team's credentials, even when it watches every namespace.
/// </summary>
public sealed class SecretCacheTests
{
    private const string Ns = "default";
    private const string ManagedSelector = $"{WellKnown.ManagedByLabel}={WellKnown.ManagedByValue}";

    [Fact]
    public async Task The_operator_lists_and_watches_only_its_own_secrets_and_reads_a_named_secret_by_name_and_its_rotation()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        await new ResourceClient<V1Namespace>(h.Kubernetes).CreateAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "kube-system" } });
        // What must never reach the operator's memory: a ServiceAccount token elsewhere, and a
        // Secret next to the pool that nothing names.
        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta
            {
                Name = "admin-token",
                NamespaceProperty = "kube-system",
                Annotations = new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = "admin" },
            },
            Type = "kubernetes.io/service-account-token",
            Data = new Dictionary<string, byte[]> { ["token"] = "cluster-admin-token"u8.ToArray() },
        });
        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "team-b-password", NamespaceProperty = Ns },
            Data = new Dictionary<string, byte[]> { ["password"] = "team-b"u8.ToArray() },
        });
        await secrets.CreateAsync(S3Credentials());
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(S3Binding());

        var requests = new ConcurrentQueue<string>();
        using var client = new Kubernetes(
            new KubernetesClientConfiguration { Host = h.Server.BaseAddress.ToString().TrimEnd('/') },
            new RequestRecorder(requests));
        var options = new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1), SecretRefreshInterval = TimeSpan.FromSeconds(1) };
        await WithOperatorAsync(h, client, options, async caches =>
        {
            // Managed TLS: the pool's CA and certificates are Secrets the operator makes.
            await h.CreateReadyPoolAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
            var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"),
                d => d?.Spec.Template.Metadata.Annotations?.ContainsKey(BuilderCredentials.DigestAnnotation) == true, "the builder to take the bound credentials");
            var digest = builder!.Spec.Template.Metadata.Annotations[BuilderCredentials.DigestAnnotation];

            // A rotation is noticed without a watch on the Secret.
            var rotated = (await secrets.GetAsync(Ns, "s3-creds"))!;
            rotated.Data["AWS_SECRET_ACCESS_KEY"] = "second"u8.ToArray();
            await secrets.ReplaceAsync(rotated);
            await h.WaitAsync(async () =>
            {
                await h.SimulateReadyDeploymentsAsync(Ns);
                return await h.Deployments.GetAsync(Ns, "ci-0-builder");
            }, d => d!.Spec.Template.Metadata.Annotations[BuilderCredentials.DigestAnnotation] != digest, "the builder to roll for the rotated Secret");

            var secretRequests = requests.Where(r => r.Contains("/secrets", StringComparison.Ordinal)).ToList();
            // Lists and watches: GETs of a Secret collection (the operator also creates Secrets with POST there).
            var collections = secretRequests.Where(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Split('?')[0].EndsWith("/secrets", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(collections);
            Assert.All(collections, r => Assert.Contains("labelSelector=" + Uri.EscapeDataString(ManagedSelector), r, StringComparison.Ordinal));
            Assert.DoesNotContain(secretRequests, r => r.Contains("admin-token", StringComparison.Ordinal) || r.Contains("team-b-password", StringComparison.Ordinal));
            Assert.Contains(secretRequests, r => r.StartsWith($"GET /api/v1/namespaces/{Ns}/secrets/s3-creds", StringComparison.Ordinal));

            var held = caches.SecretInformers.SelectMany(i => i.Cache.List()).Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}").ToList();
            Assert.Contains($"{Ns}/s3-creds", held);
            Assert.Contains($"{Ns}/{ResourceNames.CaSecret("ci")}", held);
            Assert.DoesNotContain("kube-system/admin-token", held);
            Assert.DoesNotContain($"{Ns}/team-b-password", held);
        });
    }

    [Fact]
    public async Task A_secret_a_pool_stops_naming_leaves_the_operators_memory()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        await new ResourceClient<V1Secret>(h.Kubernetes).CreateAsync(S3Credentials());
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(S3Binding());
        await WithOperatorAsync(h, h.Kubernetes, new OperatorOptions { SecretRefreshInterval = TimeSpan.FromMinutes(10) }, async caches =>
        {
            await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Disabled));
            await h.WaitAsync(() => Task.FromResult(caches.SecretReader.Cached(Ns, "s3-creds")), s => s is not null, "the named Secret to be read");

            // Far sooner than the 10-minute refresh: deleting the binding is a change of references.
            await bindings.DeleteAsync(Ns, "s3");
            await h.WaitAsync(() => Task.FromResult(caches.ReferencedSecrets.Cache.List()), l => l.Count == 0, "the Secret to leave the cache", TimeSpan.FromSeconds(20));
            Assert.Null(caches.SecretReader.Cached(Ns, "s3-creds"));
        });
    }

    private static V1Secret S3Credentials() => new()
    {
        Metadata = new V1ObjectMeta { Name = "s3-creds", NamespaceProperty = Ns },
        Data = new Dictionary<string, byte[]> { ["AWS_SECRET_ACCESS_KEY"] = "first"u8.ToArray() },
    };

    private static SecretBinding S3Binding() => new()
    {
        Metadata = new V1ObjectMeta { Name = "s3", NamespaceProperty = Ns },
        Spec = new SecretBindingSpec
        {
            Kind = SecretBindingKind.CacheBackendCredentials,
            Pool = "ci",
            CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "s3-creds" },
        },
    };

    /// <summary>Runs the operator on <paramref name="client"/> while <paramref name="body"/> looks at its caches.</summary>
    private static async Task WithOperatorAsync(OperatorHarness h, IKubernetes client, OperatorOptions options, Func<OperatorCaches, Task> body)
    {
        var (manager, caches) = BuildPoolOperator.Create(client, options, TimeProvider.System, NullLoggerFactory.Instance, connector: new FixedBuilderConnector(h.Daemon.Address));
        using var stop = new CancellationTokenSource();
        var run = manager.RunAsync(stop.Token);
        try
        {
            await body(caches);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Records each request's method and path with its query, as the API server sees them.</summary>
    private sealed class RequestRecorder(ConcurrentQueue<string> requests) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            requests.Enqueue($"{request.Method} {request.RequestUri!.PathAndQuery}");
            return base.SendAsync(request, cancellationToken);
        }
    }
}
