using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Pools;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class PoolTlsTests
{
    private const string Ns = "default";

    internal static BuilderPool Pool(string name, TlsMode mode, string? secretName = null, string? domain = null, int volumes = 1, int warm = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = volumes },
            Scaling = new ScalingSpec { WarmBuilders = warm },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" } },
            Endpoint = new EndpointSpec { Tls = new EndpointTlsSpec { Mode = mode, SecretName = secretName } },
            Routing = new RoutingSpec { Domain = domain },
        },
    };

    internal static X509Certificate2 Certificate(V1Secret secret, string key = "tls.crt") =>
        X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(secret.Data[key]));

    internal static bool ChainsTo(X509Certificate2 leaf, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTimeIgnored = true;
        return chain.Build(leaf);
    }

    internal static IReadOnlyList<string> DnsNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();

    internal static IReadOnlyList<string> Usages(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()).Select(o => o.Value!).ToList();

    [Fact]
    public async Task A_managed_pool_gets_a_ca_and_gateway_and_builder_certificates_for_its_service_names()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("ci", TlsMode.Managed, domain: "build.example.test"));
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);

        var caSecret = await h.WaitAsync(() => secrets.GetAsync(Ns, "ci-ca"), s => s is not null, "the pool CA Secret");
        var gatewaySecret = await h.WaitAsync(() => secrets.GetAsync(Ns, "ci-gateway-tls"), s => s is not null, "the gateway certificate Secret");
        var builderSecret = await h.WaitAsync(() => secrets.GetAsync(Ns, "ci-builder-tls"), s => s is not null, "the builder certificate Secret");

        Assert.Equal(["ca.crt", "ca.key"], caSecret!.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("BuilderPool", Assert.Single(caSecret.Metadata.OwnerReferences).Kind);
        using var ca = Certificate(caSecret, "ca.crt");
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);

        Assert.Equal(["ca.crt", "tls.crt", "tls.key"], gatewaySecret!.Data.Keys.Order(StringComparer.Ordinal));
        using var gateway = Certificate(gatewaySecret);
        Assert.True(ChainsTo(gateway, ca));
        Assert.Equal(
            ["*.build.example.test", "build.example.test", "ci", "ci.default", "ci.default.svc", "ci.default.svc.cluster.local"],
            DnsNames(gateway).Order(StringComparer.Ordinal));
        // A server certificate only: the gateway presents another one, from the internal CA, to builders.
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], Usages(gateway));

        // Builders' certificate comes from the internal CA, not from the CA that signs tenants' certificates.
        using var builder = Certificate(builderSecret!);
        var internalSecret = await h.WaitAsync(() => secrets.GetAsync(Ns, "ci-internal-ca"), s => s is not null, "the internal CA Secret");
        using var internalCa = Certificate(internalSecret!, "ca.crt");
        Assert.True(ChainsTo(builder, internalCa));
        Assert.False(ChainsTo(builder, ca));
        Assert.Equal(["*.default.svc", "*.default.svc.cluster.local"], DnsNames(builder).Order(StringComparer.Ordinal));
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], Usages(builder));

        // The gateway serves the pool certificate, asks clients for one, and dials builders with mTLS
        // (its client certificate and the bundle it verifies builders with come from the internal CA).
        var deployment = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-gateway"),
            d => d?.Spec.Template.Metadata.Annotations?.ContainsKey(GatewayTls.DigestAnnotation) == true, "the gateway with TLS");
        var args = deployment!.Spec.Template.Spec.Containers[0].Args;
        Assert.Equal(
            ["--tls-cert", "/etc/buildpool/tls/tls.crt", "--tls-key", "/etc/buildpool/tls/tls.key", "--client-ca", "/etc/buildpool/ca/ca.crt",
             "--upstream-ca", "/etc/buildpool/gateway-tls/ca.crt", "--upstream-cert", "/etc/buildpool/gateway-tls/tls.crt", "--upstream-key", "/etc/buildpool/gateway-tls/tls.key"],
            args.SkipWhile(a => a != "--tls-cert"));
        var volumes = deployment.Spec.Template.Spec.Volumes;
        Assert.Equal("ci-gateway-tls", volumes.Single(v => v.Name == "tls").Secret.SecretName);
        Assert.Equal("ci-builder-client-tls", volumes.Single(v => v.Name == "gateway-tls").Secret.SecretName);
        // Only the CA certificate reaches the gateway, never the CA key.
        var caProjection = Assert.Single(volumes.Single(v => v.Name == "ca").Projected.Sources);
        Assert.Equal("ci-ca", caProjection.Secret.Name);
        Assert.Equal(["ca.crt"], caProjection.Secret.Items.Select(i => i.Key));
        // The root file system is read-only; the TLS mounts come beside the writable /tmp, not instead of it.
        Assert.NotNull(volumes.Single(v => v.Name == "tmp").EmptyDir);
        Assert.Contains(deployment.Spec.Template.Spec.Containers[0].VolumeMounts, m => m.Name == "tmp" && m.MountPath == "/tmp");
        Assert.True(deployment.Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem);

        // Builders serve TLS with the builder certificate and take only the internal CA's clients.
        var builderDeployment = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"), d => d is not null, "the builder");
        Assert.Contains(builderDeployment!.Spec.Template.Spec.Volumes, v => v.Secret?.SecretName == "ci-builder-tls");
        var config = await new ResourceClient<V1ConfigMap>(h.Kubernetes).GetAsync(Ns, "ci-0-buildkitd");
        Assert.Contains("[grpc.tls]\n  cert = \"/etc/buildkit-tls/tls.crt\"\n  key = \"/etc/buildkit-tls/tls.key\"\n  ca = \"/etc/buildkit-tls/ca.crt\"", config!.Data["buildkitd.toml"], StringComparison.Ordinal);

        // The gateway finds the builder at an https:// endpoint.
        // The status follows the Deployment on the volume's next reconcile: wait for it.
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "ci-0"), v => v?.Status.Endpoint == "https://ci-0-builder.default.svc:1234", "the volume's https endpoint");

        var pool = await h.Pools.GetAsync(Ns, "ci");
        Assert.DoesNotContain(pool!.Status.Conditions, c => c.Type == "Warning");
    }

    [Fact]
    public async Task A_pool_without_tls_warns_in_status_and_with_one_event_that_its_endpoint_is_unauthenticated()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("open", TlsMode.Disabled));

        var pool = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "open"), p => p?.Status.Conditions.Any(c => c.Type == "Warning") == true, "the Warning condition");
        var warning = pool!.Status.Conditions.Single(c => c.Type == "Warning");
        Assert.Equal("True", warning.Status);
        Assert.Equal("UnauthenticatedEndpoint", warning.Reason);
        Assert.Contains("anyone who can reach the endpoint can run builds", warning.Message, StringComparison.Ordinal);

        var events = new ResourceClient<Corev1Event>(h.Kubernetes);
        await h.WaitAsync(() => events.ListAsync(Ns), e => e.Any(x => x.Reason == "UnauthenticatedEndpoint"), "the Warning event");
        // More status changes (builders starting and becoming ready) do not repeat it.
        await h.WaitForReadyPoolAsync(Ns, "open");
        var warnings = (await events.ListAsync(Ns)).Where(e => e.Reason == "UnauthenticatedEndpoint").ToList();
        Assert.Equal("Warning", Assert.Single(warnings).Type);
        Assert.Empty(await new ResourceClient<V1Secret>(h.Kubernetes).ListAsync(Ns));
    }

    [Fact]
    public async Task A_from_secret_pool_whose_secret_is_missing_is_stalled_naming_spec_endpoint_tls_secretName()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("byo", TlsMode.FromSecret, secretName: "byo-cert"));

        var pool = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "byo"),
            p => p?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True") == true, "the pool to be Stalled");
        var stalled = pool!.Status.Conditions.Single(c => c.Type == "Stalled");
        Assert.StartsWith("spec.endpoint.tls.secretName: Secret \"byo-cert\" not found", stalled.Message, StringComparison.Ordinal);
        Assert.Null(await h.Deployments.GetAsync(Ns, "byo-gateway"));
    }

    [Fact]
    public async Task A_from_secret_pool_serves_the_given_certificate_and_still_signs_builders_with_its_internal_ca()
    {
        await using var h = await OperatorHarness.StartAsync();
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        using var issuer = Security.CertificateFixtures.Ca("external issuer");
        var served = Security.CertificateFixtures.Server(issuer, "byo.default.svc");
        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "byo-cert", NamespaceProperty = Ns },
            Type = "kubernetes.io/tls",
            Data = new Dictionary<string, byte[]>
            {
                ["tls.crt"] = Encoding.UTF8.GetBytes(served.CertificatePem),
                ["tls.key"] = Encoding.UTF8.GetBytes(served.PrivateKeyPem),
                ["ca.crt"] = Encoding.UTF8.GetBytes(issuer.CertificatePem),
            },
        });
        await h.Pools.CreateAsync(Pool("byo", TlsMode.FromSecret, secretName: "byo-cert"));

        var deployment = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "byo-gateway"), d => d is not null, "the gateway");
        var volumes = deployment!.Spec.Template.Spec.Volumes;
        Assert.Equal("byo-cert", volumes.Single(v => v.Name == "tls").Secret.SecretName);
        Assert.Equal("byo-builder-client-tls", volumes.Single(v => v.Name == "gateway-tls").Secret.SecretName);
        var ca = await h.WaitAsync(() => secrets.GetAsync(Ns, "byo-internal-ca"), s => s is not null, "the internal CA");
        var builderTls = await h.WaitAsync(() => secrets.GetAsync(Ns, "byo-builder-tls"), s => s is not null, "the builder certificate");
        using var poolCa = Certificate(ca!, "ca.crt");
        using var builder = Certificate(builderTls!);
        Assert.True(ChainsTo(builder, poolCa));
    }

    [Fact]
    public async Task Turning_require_client_certificate_off_is_passed_to_the_gateway()
    {
        await using var h = await OperatorHarness.StartAsync();
        var pool = Pool("lax", TlsMode.Managed);
        pool.Spec.Endpoint.Tls.RequireClientCertificate = false;
        await h.Pools.CreateAsync(pool);

        var deployment = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "lax-gateway"),
            d => d?.Spec.Template.Spec.Containers[0].Args.Contains("--tls-cert") == true, "the gateway with TLS");
        Assert.Contains("--require-client-certificate=false", deployment!.Spec.Template.Spec.Containers[0].Args);
    }

    [Fact]
    public async Task Builders_of_a_managed_pool_mount_the_builder_certificate_and_nothing_of_the_ca_key()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool("iso", TlsMode.Managed));
        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "iso-0-builder"), d => d is not null, "the builder");
        var secretsMounted = builder!.Spec.Template.Spec.Volumes.Where(v => v.Secret is not null).Select(v => v.Secret.SecretName).ToList();
        Assert.Equal(["iso-builder-tls"], secretsMounted);
        Assert.True(builder.Spec.Template.Metadata.Annotations.ContainsKey(BuilderCredentials.DigestAnnotation));
    }
}
