using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Security;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// Who a builder lets in. A builder is reached directly wherever the NetworkPolicy is not
/// enforced, so its own TLS listener is the boundary: these tests start a test-double builder
/// with exactly the files the operator gives buildkitd (<c>[grpc.tls] cert, key, ca</c>) and
/// present certificates to it.
/// </summary>
public sealed class BuilderTrustTests
{
    private const string Ns = "default";
    private const string Tenant = "team-a";

    [Fact]
    public async Task A_tenant_certificate_presented_to_a_builders_tls_listener_is_refused_while_the_gateways_is_taken()
    {
        await using var h = await OperatorHarness.StartAsync();
        await SecretBindingTests.CreateTenantNamespaceAsync(h);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(SecretBindingTests.ClientAccess("team-a-ci", "ci"));
        await SecretBindingTests.WaitIssuedAsync(h, "team-a-ci");
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);

        await using var builder = await RenderedBuilderAsync(h, "ci-0");
        var issued = await secrets.GetAsync(Tenant, "ci-client");
        using var tenant = X509Certificate2.CreateFromPem(Text(issued!, "cert.pem"), Text(issued!, "key.pem"));

        // What a tenant does with buildctl --tlscert/--tlskey against the builder's Service.
        // The handshake fails: the builder never answers the call.
        var refused = await Assert.ThrowsAsync<BuildKitUnavailableException>(() => ListWorkersAsync(builder, tenant));
        Assert.Contains("ListWorkers failed", refused.Message, StringComparison.Ordinal);
        Assert.Empty(builder.Daemon.Builds.Calls);

        // The gateway dials the same listener with its own client certificate and gets in.
        using var gateway = await GatewayClientCertificateAsync(h, "ci");
        Assert.NotEmpty(await ListWorkersAsync(builder, gateway));
    }

    [Fact]
    public async Task A_new_pools_builders_trust_a_ca_bundle_without_the_tenant_ca_and_say_so_in_status()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);

        var pool = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "ci"),
            p => p?.Status.Conditions.Any(c => c.Type == "BuilderTrust") == true, "the pool's BuilderTrust condition");
        var condition = pool!.Status.Conditions.Single(c => c.Type == "BuilderTrust");
        Assert.Equal(("True", "InternalCaOnly"), (condition.Status, condition.Reason));
        var tenantCa = Bundle(Text((await secrets.GetAsync(Ns, "ci-ca"))!, "ca.crt"));
        var internalCa = Bundle(Text((await secrets.GetAsync(Ns, "ci-internal-ca"))!, "ca.crt"));
        var builderTls = await h.WaitAsync(() => secrets.GetAsync(Ns, "ci-builder-tls"), s => s is not null, "the builder certificate");

        // The builders' [grpc.tls] ca is exactly the internal CA: never the tenant CA.
        Assert.Equal([internalCa.Single().Thumbprint], Bundle(Text(builderTls!, "ca.crt")).Select(c => c.Thumbprint));
        Assert.NotEqual(tenantCa.Single().Thumbprint, internalCa.Single().Thumbprint);
        using var server = PoolTlsTests.Certificate(builderTls!);
        Assert.True(PoolTlsTests.ChainsTo(server, internalCa.Single()));

        // The gateway presents the internal CA's client certificate and verifies builders against the internal CA only.
        using var client = await GatewayClientCertificateAsync(h, "ci");
        Assert.True(PoolTlsTests.ChainsTo(client, internalCa.Single()));
        Assert.Equal([CertificateAuthority.ClientAuth], PoolTlsTests.Usages(client));
        var upstream = (await secrets.GetAsync(Ns, "ci-builder-client-tls"))!;
        Assert.Equal([internalCa.Single().Thumbprint], Bundle(Text(upstream, "ca.crt")).Select(c => c.Thumbprint));
        // Tenants' CA (the gateway's --client-ca) signs the gateway's server certificate, which is no client certificate.
        using var gatewayServer = PoolTlsTests.Certificate((await secrets.GetAsync(Ns, "ci-gateway-tls"))!);
        Assert.True(PoolTlsTests.ChainsTo(gatewayServer, tenantCa.Single()));
        Assert.Equal([CertificateAuthority.ServerAuth], PoolTlsTests.Usages(gatewayServer));
    }

    [Fact]
    public async Task A_pool_created_before_the_internal_ca_moves_its_builders_to_it_without_a_moment_where_builders_and_gateway_refuse_each_other()
    {
        await using var h = await OperatorHarness.StartAsync();
        await SecretBindingTests.CreateTenantNamespaceAsync(h);
        await h.CreateReadyPoolAsync(PoolTlsTests.Pool("ci", TlsMode.Managed, volumes: 2, warm: 2));
        await h.StopOperatorAsync();
        var legacyCa = await MakeLegacyAsync(h, "ci");
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        await using var timeline = TrustTimeline.Start(h);

        h.StartOperator();
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(SecretBindingTests.ClientAccess("team-a-ci", "ci"));
        await SecretBindingTests.WaitIssuedAsync(h, "team-a-ci");

        // While no builder pod has restarted with the new trust bundle, the gateway keeps presenting
        // the certificate the old builders take, and the pool says what it waits for.
        var waiting = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "ci"),
            p => p?.Status.Conditions.Any(c => c.Type == "BuilderTrust" && c.Message.Contains("ci-0-builder, ci-1-builder", StringComparison.Ordinal)) == true,
            "the pool to wait for its builders", TimeSpan.FromSeconds(20));
        var step1 = waiting!.Status.Conditions.Single(c => c.Type == "BuilderTrust");
        Assert.Equal(("False", "TrustInternalCa"), (step1.Status, step1.Reason));
        Assert.StartsWith("step 1 of 3: builders restart", step1.Message, StringComparison.Ordinal);
        using (var stillOld = await GatewayClientCertificateAsync(h, "ci"))
        {
            Assert.True(PoolTlsTests.ChainsTo(stillOld, legacyCa));
        }

        // The pods restart (the kubelet and deployment controller catch up): the move goes on.
        await using var kubelet = FakeKubelet.Start(h.Deployments, Ns);
        var moved = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "ci"),
            p => p?.Status.Conditions.Any(c => c.Type == "BuilderTrust" && c.Status == "True") == true, "the builders to trust only the internal CA", TimeSpan.FromSeconds(120));
        await timeline.StopAsync();

        // Each step is an Event a person can follow (their order is BuilderTrust's, tested as a table).
        string[] steps = ["BuilderTrustSwitchClientCertificate", "BuilderTrustDropTenantCa", "BuilderTrustComplete"];
        var events = await h.WaitAsync(() => new ResourceClient<Corev1Event>(h.Kubernetes).ListAsync(Ns),
            e => steps.All(step => e.Any(x => x.Reason == step)), "an Event for each step", TimeSpan.FromSeconds(60));
        Assert.All(events.Where(e => steps.Contains(e.Reason)), e => Assert.Equal(("Normal", "BuilderPool"), (e.Type, e.InvolvedObject.Kind)));
        Assert.Equal("InternalCaOnly", moved!.Status.Conditions.Single(c => c.Type == "BuilderTrust").Reason);

        // It started from builders trusting the tenant CA, went through more than one state, and at
        // every change each builder and gateway certificate in use was one the other side took.
        Assert.Contains(timeline.States, s => s.BuilderTrust.Any(c => c.Thumbprint == legacyCa.Thumbprint));
        Assert.True(PoolTlsTests.ChainsTo(timeline.States[0].GatewayClient, legacyCa), "the first state seen has the gateway on its old certificate");
        Assert.True(timeline.States.Count >= 3, $"{timeline.States.Count} distinct states seen");
        timeline.AssertEveryChangeKeptBothSidesTalking();

        // The tenant CA is the one it was: certificates tenants hold need nothing.
        Assert.Equal(legacyCa.Thumbprint, Bundle(Text((await secrets.GetAsync(Ns, "ci-ca"))!, "ca.crt")).Single().Thumbprint);
        var builderBundle = Bundle(Text((await secrets.GetAsync(Ns, "ci-builder-tls"))!, "ca.crt"));
        Assert.DoesNotContain(builderBundle, c => c.Thumbprint == legacyCa.Thumbprint);

        // And a tenant certificate no longer opens a builder; the gateway's still does.
        await using var builder = await RenderedBuilderAsync(h, "ci-0");
        var issued = await secrets.GetAsync(Tenant, "ci-client");
        using var tenant = X509Certificate2.CreateFromPem(Text(issued!, "cert.pem"), Text(issued!, "key.pem"));
        Assert.True(PoolTlsTests.ChainsTo(tenant, legacyCa));
        await Assert.ThrowsAsync<BuildKitUnavailableException>(() => ListWorkersAsync(builder, tenant));
        using var gateway = await GatewayClientCertificateAsync(h, "ci");
        Assert.NotEmpty(await ListWorkersAsync(builder, gateway));
    }

    /// <summary>
    /// Turns a running pool back into what the operator left before the internal CA: one CA for
    /// builders, gateway and tenants alike (builder and gateway certificates from the tenant CA,
    /// builders trusting it), no internal CA, builder pods started from a template without the
    /// builder-certificate digest, and a gateway presenting its server certificate to builders.
    /// </summary>
    private static async Task<X509Certificate2> MakeLegacyAsync(OperatorHarness h, string name)
    {
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        var pool = (await h.Pools.GetAsync(Ns, name))!;
        var caSecret = (await secrets.GetAsync(Ns, $"{name}-ca"))!;
        using var ca = CertificateAuthority.TryLoad(Text(caSecret, "ca.crt"), Text(caSecret, "ca.key"))!;
        var now = DateTime.UtcNow;
        await ReissueAsync(secrets, $"{name}-gateway-tls", ca.Issue(new LeafProfile($"{name}.{Ns}.svc", PoolCertificateNames.Gateway(pool), ServerAuth: true, ClientAuth: true), now, TimeSpan.FromDays(90)), ca);
        await ReissueAsync(secrets, $"{name}-builder-tls", ca.Issue(new LeafProfile($"{name} builders {Ns}", PoolCertificateNames.Builders(pool), ServerAuth: true, ClientAuth: false), now, TimeSpan.FromDays(90)), ca);
        await secrets.DeleteAsync(Ns, $"{name}-internal-ca");
        await secrets.DeleteAsync(Ns, $"{name}-builder-client-tls");

        foreach (var builder in (await h.Deployments.ListAsync(Ns)).Where(d => d.Metadata.Name.EndsWith("-builder", StringComparison.Ordinal)))
        {
            builder.Spec.Template.Metadata.Annotations.Remove(BuilderCredentials.TlsDigestAnnotation);
            await h.Deployments.ReplaceAsync(builder);
        }

        var gateway = (await h.Deployments.GetAsync(Ns, $"{name}-gateway"))!;
        gateway.Spec.Template.Spec.Volumes.Single(v => v.Name == "gateway-tls").Secret.SecretName = $"{name}-gateway-tls";
        await h.Deployments.ReplaceAsync(gateway);
        // The pods run from these templates.
        await h.SimulateReadyDeploymentsAsync(Ns);
        return X509Certificate2.CreateFromPem(ca.CertificatePem);
    }

    private static async Task ReissueAsync(ResourceClient<V1Secret> secrets, string name, IssuedCertificate issued, CertificateAuthority ca)
    {
        var secret = (await secrets.GetAsync(Ns, name))!;
        secret.Data["tls.crt"] = Encoding.UTF8.GetBytes(issued.CertificatePem);
        secret.Data["tls.key"] = Encoding.UTF8.GetBytes(issued.PrivateKeyPem);
        secret.Data["ca.crt"] = Encoding.UTF8.GetBytes(ca.CertificatePem);
        await secrets.ReplaceAsync(secret);
    }

    internal static X509Certificate2Collection Bundle(string pem)
    {
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPem(pem);
        return bundle;
    }

    /// <summary>A test-double builder serving TLS from the volume's rendered config and mounted Secret, as buildkitd would.</summary>
    internal static async Task<RenderedBuilder> RenderedBuilderAsync(OperatorHarness h, string volume)
    {
        var deployment = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, $"{volume}-builder"), d => d is not null, "the builder");
        var config = await h.WaitAsync(() => new ResourceClient<V1ConfigMap>(h.Kubernetes).GetAsync(Ns, $"{volume}-buildkitd"), c => c is not null, "the builder's buildkitd.toml");
        var toml = config!.Data["buildkitd.toml"];
        // The files [grpc.tls] names, and the Secret mounted where they are.
        Assert.Contains("[grpc.tls]\n  cert = \"/etc/buildkit-tls/tls.crt\"\n  key = \"/etc/buildkit-tls/tls.key\"\n  ca = \"/etc/buildkit-tls/ca.crt\"", toml, StringComparison.Ordinal);
        var mount = deployment!.Spec.Template.Spec.Containers[0].VolumeMounts.Single(m => m.MountPath == "/etc/buildkit-tls");
        var secretName = deployment.Spec.Template.Spec.Volumes.Single(v => v.Name == mount.Name).Secret.SecretName;
        var secret = await new ResourceClient<V1Secret>(h.Kubernetes).GetAsync(Ns, secretName);
        var tls = FakeBuilderTls.FromBuildkitdFiles(Text(secret!, "tls.crt"), Text(secret!, "tls.key"), Text(secret!, "ca.crt"));
        var daemon = await FakeBuildKitDaemon.StartAsync($"{volume}-tls", volume, tls);
        return new RenderedBuilder(daemon, tls);
    }

    /// <summary>The client certificate the gateway Deployment presents to builders (its --upstream-cert and key).</summary>
    internal static async Task<X509Certificate2> GatewayClientCertificateAsync(OperatorHarness h, string pool)
    {
        var gateway = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, $"{pool}-gateway"),
            d => d?.Spec.Template.Spec.Volumes?.Any(v => v.Name == "gateway-tls") == true, "the gateway with TLS");
        var secretName = gateway!.Spec.Template.Spec.Volumes.Single(v => v.Name == "gateway-tls").Secret.SecretName;
        var secret = await new ResourceClient<V1Secret>(h.Kubernetes).GetAsync(Ns, secretName);
        return X509Certificate2.CreateFromPem(Text(secret!, "tls.crt"), Text(secret!, "tls.key"));
    }

    internal static async Task<IReadOnlyList<BuildPool.BuildKit.Protocol.WorkerRecord>> ListWorkersAsync(RenderedBuilder builder, X509Certificate2 client)
    {
        using var buildkit = new BuildKitClient($"https://{builder.Daemon.EndPoint.Host}:{builder.Daemon.EndPoint.Port}", new BuildKitClientOptions
        {
            UseTls = true,
            ClientCertificate = client,
            CertificateAuthorities = builder.Tls.ClientCaBundle,
            MaxRetryAttempts = 1,
        });
        return await buildkit.ListWorkersAsync();
    }

    internal static string Text(V1Secret secret, string key) => Encoding.UTF8.GetString(secret.Data[key]);

    internal sealed record RenderedBuilder(FakeBuildKitDaemon Daemon, FakeBuilderTls Tls) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Daemon.DisposeAsync();
    }
}
