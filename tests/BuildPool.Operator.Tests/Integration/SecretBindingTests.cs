using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Tests.Rendering;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Operator.Tests.Integration;

public sealed class SecretBindingTests
{
    private const string Ns = "default";
    private const string Tenant = "team-a";

    internal static SecretBinding ClientAccess(string name, string pool, string validity = "2160h") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new SecretBindingSpec
        {
            Kind = SecretBindingKind.ClientAccess,
            Pool = pool,
            ClientAccess = new ClientAccessBinding { TargetNamespace = Tenant, SecretName = "ci-client", Validity = validity },
        },
    };

    internal static async Task CreateTenantNamespaceAsync(OperatorHarness h) =>
        await new ResourceClient<V1Namespace>(h.Kubernetes).CreateAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Tenant } });

    internal static Task<SecretBinding?> WaitIssuedAsync(OperatorHarness h, string name, Func<SecretBinding, bool>? also = null, Action? tick = null) =>
        h.WaitAsync(() =>
        {
            tick?.Invoke();
            return new ResourceClient<SecretBinding>(h.Kubernetes).GetAsync(Ns, name);
        }, b => b?.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True") == true && (also?.Invoke(b) ?? true), $"SecretBinding {name} to issue its certificate");

    [Fact]
    public async Task A_client_access_binding_issues_a_certificate_from_the_pool_ca_with_the_tenant_identity()
    {
        await using var h = await OperatorHarness.StartAsync();
        await CreateTenantNamespaceAsync(h);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(ClientAccess("team-a-ci", "ci"));

        var binding = await WaitIssuedAsync(h, "team-a-ci");
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        var issued = await secrets.GetAsync(Tenant, "ci-client");
        Assert.NotNull(issued);
        Assert.Equal(["ca.pem", "cert.pem", "key.pem"], issued!.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("ci", issued.Metadata.Labels["buildpool.dev/pool"]);
        Assert.Equal("team-a-ci", issued.Metadata.Labels["buildpool.dev/binding"]);
        Assert.Equal(Ns, issued.Metadata.Labels["buildpool.dev/binding-namespace"]);

        using var certificate = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(issued.Data["cert.pem"]), Encoding.UTF8.GetString(issued.Data["key.pem"]));
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("CN=team-a/team-a-ci, O=buildpool.dev", certificate.Subject);
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], PoolTlsTests.Usages(certificate));
        Assert.Matches("^[0-9A-F]{32}$", certificate.SerialNumber);
        Assert.True((certificate.GetSerialNumber()[^1] & 0x80) == 0, "the serial number is positive");

        var poolCa = await secrets.GetAsync(Ns, "ci-ca");
        using var ca = PoolTlsTests.Certificate(poolCa!, "ca.crt");
        Assert.True(PoolTlsTests.ChainsTo(certificate, ca));
        // ca.pem is what verifies the gateway's server certificate.
        Assert.Equal(Encoding.UTF8.GetString(poolCa!.Data["ca.crt"]), Encoding.UTF8.GetString(issued.Data["ca.pem"]));

        Assert.Equal(certificate.SerialNumber, binding!.Status.CertificateSerialNumber);
        Assert.Equal("team-a/ci-client", binding.Status.IssuedSecret);
        Assert.Equal(certificate.NotAfter.ToUniversalTime(), binding.Status.CertificateNotAfter!.Value.ToUniversalTime());
        Assert.Equal(
            "docker buildx create --name ci --driver remote --driver-opt cacert=$HOME/.buildpool/ci/ca.pem,cert=$HOME/.buildpool/ci/cert.pem,key=$HOME/.buildpool/ci/key.pem,servername=ci.default.svc tcp://ci.default.svc:1234 --use",
            binding.Status.BuildxCommand);
        Assert.Contains("buildpool.dev/secret-binding", binding.Metadata.Finalizers);
    }

    [Fact]
    public async Task Deleting_a_client_access_binding_deletes_the_issued_secret_then_the_binding()
    {
        await using var h = await OperatorHarness.StartAsync();
        await CreateTenantNamespaceAsync(h);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(ClientAccess("team-a-ci", "ci"));
        await WaitIssuedAsync(h, "team-a-ci");
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        Assert.NotNull(await secrets.GetAsync(Tenant, "ci-client"));

        await bindings.DeleteAsync(Ns, "team-a-ci");

        await h.WaitAsync(() => secrets.GetAsync(Tenant, "ci-client"), s => s is null, "the issued Secret to be deleted");
        await h.WaitAsync(() => bindings.GetAsync(Ns, "team-a-ci"), b => b is null, "the binding to go once its finalizer is removed");
    }

    [Fact]
    public async Task A_secret_of_the_same_name_that_the_binding_did_not_issue_is_neither_overwritten_nor_deleted()
    {
        await using var h = await OperatorHarness.StartAsync();
        await CreateTenantNamespaceAsync(h);
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "ci-client", NamespaceProperty = Tenant },
            Data = new Dictionary<string, byte[]> { ["note"] = "mine"u8.ToArray() },
        });
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(ClientAccess("team-a-ci", "ci"));

        // The binding may first stall on spec.pool while the operator's cache does not show the
        // pool yet (each kind has its own watch): wait for the stall on the Secret.
        var stalled = await h.WaitAsync(() => bindings.GetAsync(Ns, "team-a-ci"),
            b => b?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True" && c.Message.StartsWith("spec.clientAccess.secretName:", StringComparison.Ordinal)) == true,
            "the binding to be Stalled on spec.clientAccess.secretName");
        Assert.StartsWith("spec.clientAccess.secretName:", stalled!.Status.Conditions.Single(c => c.Type == "Stalled").Message, StringComparison.Ordinal);

        await bindings.DeleteAsync(Ns, "team-a-ci");
        await h.WaitAsync(() => bindings.GetAsync(Ns, "team-a-ci"), b => b is null, "the binding to go");
        Assert.Equal("mine"u8.ToArray(), (await secrets.GetAsync(Tenant, "ci-client"))!.Data["note"]);
    }

    [Fact]
    public async Task A_client_access_binding_for_a_pool_without_tls_is_stalled_naming_spec_endpoint_tls_mode()
    {
        await using var h = await OperatorHarness.StartAsync();
        await CreateTenantNamespaceAsync(h);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("open", TlsMode.Disabled));
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(ClientAccess("team-a-open", "open"));

        // The binding may first stall on spec.pool before the pool reaches the operator's cache: wait for the stall on the pool's TLS mode.
        var stalled = await h.WaitAsync(() => bindings.GetAsync(Ns, "team-a-open"),
            b => b?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True" && c.Message.Contains("spec.endpoint.tls.mode is Disabled", StringComparison.Ordinal)) == true,
            "the binding to be Stalled on the pool's spec.endpoint.tls.mode");
        Assert.Contains("spec.endpoint.tls.mode is Disabled", stalled!.Status.Conditions.Single(c => c.Type == "Stalled").Message, StringComparison.Ordinal);
        Assert.Null(stalled.Status.CertificateSerialNumber);
        Assert.Null(await new ResourceClient<V1Secret>(h.Kubernetes).GetAsync(Tenant, "ci-client"));
    }

    [Fact]
    public async Task Certificates_are_renewed_after_two_thirds_of_their_validity_and_the_gateway_rolls_for_its_own()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1), ServerCertificateValidity = TimeSpan.FromHours(6) };
        await using var h = await OperatorHarness.StartAsync(options, time: clock);
        // Controllers wait on this clock (requeues, backoff): let it move a little while waiting.
        void Tick() => clock.Advance(TimeSpan.FromMilliseconds(500));
        await CreateTenantNamespaceAsync(h);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(ClientAccess("team-a-ci", "ci", validity: "3h"));

        var first = await WaitIssuedAsync(h, "team-a-ci", tick: Tick);
        var firstSerial = first!.Status.CertificateSerialNumber;
        var gateway = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-gateway"),
            d => d?.Spec.Template.Metadata.Annotations?.ContainsKey(Operator.Pools.GatewayTls.DigestAnnotation) == true, "the gateway with TLS");
        var firstDigest = gateway!.Spec.Template.Metadata.Annotations[Operator.Pools.GatewayTls.DigestAnnotation];
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        using var firstGatewayCertificate = PoolTlsTests.Certificate((await secrets.GetAsync(Ns, "ci-gateway-tls"))!);

        // Just before two thirds of 3h05m (the validity plus the clock-skew allowance): nothing changes.
        clock.Advance(TimeSpan.FromMinutes(110));
        await h.WaitAsync(() => Task.FromResult(0), _ => true, "a moment");
        Assert.Equal(firstSerial, (await new ResourceClient<SecretBinding>(h.Kubernetes).GetAsync(Ns, "team-a-ci"))!.Status.CertificateSerialNumber);

        clock.Advance(TimeSpan.FromMinutes(15));
        var renewed = await WaitIssuedAsync(h, "team-a-ci", b => b.Status.CertificateSerialNumber != firstSerial, Tick);
        Assert.True(renewed!.Status.CertificateNotAfter > first.Status.CertificateNotAfter);
        using var renewedCertificate = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString((await secrets.GetAsync(Tenant, "ci-client"))!.Data["cert.pem"]));
        Assert.Equal(renewed.Status.CertificateSerialNumber, renewedCertificate.SerialNumber);

        // The gateway certificate (6h) is due after 4h: it is reissued and the gateway rolls.
        Assert.Equal(firstGatewayCertificate.SerialNumber, PoolTlsTests.Certificate((await secrets.GetAsync(Ns, "ci-gateway-tls"))!).SerialNumber);
        clock.Advance(TimeSpan.FromHours(2));
        await h.WaitAsync(() =>
        {
            Tick();
            return h.Deployments.GetAsync(Ns, "ci-gateway");
        }, d => d!.Spec.Template.Metadata.Annotations[Operator.Pools.GatewayTls.DigestAnnotation] != firstDigest, "the gateway to roll for its renewed certificate");
        using var renewedGateway = PoolTlsTests.Certificate((await secrets.GetAsync(Ns, "ci-gateway-tls"))!);
        Assert.NotEqual(firstGatewayCertificate.SerialNumber, renewedGateway.SerialNumber);
        Assert.Equal(firstGatewayCertificate.Issuer, renewedGateway.Issuer);
    }

    [Fact]
    public async Task A_renewed_client_certificate_stays_in_the_status_as_the_previous_one_until_it_expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var h = await OperatorHarness.StartAsync(time: clock);
        void Tick() => clock.Advance(TimeSpan.FromMilliseconds(500));
        await CreateTenantNamespaceAsync(h);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(ClientAccess("team-a-ci", "ci", validity: "3h"));
        var first = await WaitIssuedAsync(h, "team-a-ci", tick: Tick);
        Assert.Null(first!.Status.PreviousCertificateSerialNumber);
        Assert.Null(first.Status.PreviousCertificateNotAfter);

        // Past two thirds of the validity: renewed, and the replaced certificate is the previous one.
        clock.Advance(TimeSpan.FromMinutes(125));
        var renewed = await WaitIssuedAsync(h, "team-a-ci", b => b.Status.CertificateSerialNumber != first.Status.CertificateSerialNumber, Tick);
        Assert.Equal(first.Status.CertificateSerialNumber, renewed!.Status.PreviousCertificateSerialNumber);
        Assert.Equal(first.Status.CertificateNotAfter!.Value.ToUniversalTime(), renewed.Status.PreviousCertificateNotAfter!.Value.ToUniversalTime());
        using var issued = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString((await new ResourceClient<V1Secret>(h.Kubernetes).GetAsync(Tenant, "ci-client"))!.Data["cert.pem"]));
        Assert.Equal(renewed.Status.CertificateSerialNumber, issued.SerialNumber);

        // Once the old certificate has expired the operator clears it (it requeued for that time).
        clock.SetUtcNow(new DateTimeOffset(first.Status.CertificateNotAfter.Value.ToUniversalTime()));
        var cleared = await h.WaitAsync(() =>
        {
            Tick();
            return bindings.GetAsync(Ns, "team-a-ci");
        }, b => b?.Status.PreviousCertificateSerialNumber is null, "the expired previous certificate to leave the status");
        Assert.Null(cleared!.Status.PreviousCertificateNotAfter);
        Assert.Equal(renewed.Status.CertificateSerialNumber, cleared.Status.CertificateSerialNumber);
        Assert.Contains(cleared.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
    }

    [Fact]
    public async Task A_certificate_reissued_after_its_secret_was_deleted_keeps_the_old_one_as_previous()
    {
        await using var h = await OperatorHarness.StartAsync();
        await CreateTenantNamespaceAsync(h);
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(ClientAccess("team-a-ci", "ci"));
        var first = await WaitIssuedAsync(h, "team-a-ci");

        await new ResourceClient<V1Secret>(h.Kubernetes).DeleteAsync(Tenant, "ci-client");

        var reissued = await WaitIssuedAsync(h, "team-a-ci", b => b.Status.CertificateSerialNumber != first!.Status.CertificateSerialNumber);
        Assert.Equal(first!.Status.CertificateSerialNumber, reissued!.Status.PreviousCertificateSerialNumber);
        Assert.Equal(first.Status.CertificateNotAfter, reissued.Status.PreviousCertificateNotAfter);
    }

    [Fact]
    public async Task A_binding_moved_to_another_target_namespace_does_not_keep_its_old_certificate_as_previous()
    {
        await using var h = await OperatorHarness.StartAsync();
        await CreateTenantNamespaceAsync(h);
        await new ResourceClient<V1Namespace>(h.Kubernetes).CreateAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team-b" } });
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Managed));
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(ClientAccess("team-a-ci", "ci"));
        var first = await WaitIssuedAsync(h, "team-a-ci");

        first!.Spec.ClientAccess!.TargetNamespace = "team-b";
        await bindings.ReplaceAsync(first);

        var moved = await WaitIssuedAsync(h, "team-a-ci", b => b.Status.IssuedSecret == "team-b/ci-client");
        Assert.NotEqual(first.Status.CertificateSerialNumber, moved!.Status.CertificateSerialNumber);
        // The old certificate names the identity team-a/team-a-ci: a grace period would keep another tenant in.
        Assert.Null(moved.Status.PreviousCertificateSerialNumber);
        Assert.Null(moved.Status.PreviousCertificateNotAfter);
        Assert.Null(await new ResourceClient<V1Secret>(h.Kubernetes).GetAsync(Tenant, "ci-client"));
    }

    [Fact]
    public async Task Rotating_a_cache_backend_credentials_secret_rolls_builders_one_at_a_time_through_drain()
    {
        await using var h = await OperatorHarness.StartAsync();
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "s3-creds", NamespaceProperty = Ns },
            Data = new Dictionary<string, byte[]> { ["AWS_ACCESS_KEY_ID"] = "AKIAFIRST"u8.ToArray(), ["AWS_SECRET_ACCESS_KEY"] = "first-secret"u8.ToArray() },
        });
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "s3", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.CacheBackendCredentials,
                Pool = "ci",
                CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "s3-creds" },
            },
        });
        await h.CreateReadyPoolAsync(PoolTlsTests.Pool("ci", TlsMode.Disabled, volumes: 2, warm: 2));

        var builders = await h.WaitAsync(() => h.Deployments.ListAsync(Ns),
            d => d.Count(x => x.Metadata.Name.EndsWith("-builder", StringComparison.Ordinal) && x.Spec.Template.Spec.Containers[0].EnvFrom?.Any(e => e.SecretRef?.Name == "s3-creds") == true) == 2,
            "both builders to take the credentials as environment");
        var oldDigests = builders.Where(d => d.Metadata.Name.EndsWith("-builder", StringComparison.Ordinal))
            .ToDictionary(d => d.Metadata.Name, d => d.Spec.Template.Metadata.Annotations[BuilderCredentials.DigestAnnotation]);
        Assert.Single(oldDigests.Values.Distinct());

        h.Daemon.Daemon.ActiveBuilds["build-1"] = DateTimeOffset.UtcNow;
        var rotated = (await secrets.GetAsync(Ns, "s3-creds"))!;
        rotated.Data["AWS_SECRET_ACCESS_KEY"] = "second-secret"u8.ToArray();
        await secrets.ReplaceAsync(rotated);

        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count(x => x.Status.Phase == CacheVolumePhase.Draining) == 1, "exactly one builder to drain");
        for (var i = 0; i < 5; i++)
        {
            // A new call to the daemon is a new drain poll: each round looks again after the operator did.
            var calls = h.Daemon.Daemon.Calls.Count;
            await h.WaitAsync(() => Task.FromResult(h.Daemon.Daemon.Calls.Count), n => n > calls, "a probe");
            Assert.True((await h.Volumes.ListAsync(Ns)).Count(v => v.Status.Phase == CacheVolumePhase.Draining) <= 1);
            Assert.All((await h.Deployments.ListAsync(Ns)).Where(d => oldDigests.ContainsKey(d.Metadata.Name)),
                d => Assert.Equal(oldDigests[d.Metadata.Name], d.Spec.Template.Metadata.Annotations[BuilderCredentials.DigestAnnotation]));
        }

        h.Daemon.Daemon.ActiveBuilds.Clear();
        await h.WaitAsync(async () =>
        {
            await h.SimulateReadyDeploymentsAsync(Ns);
            return await h.Deployments.ListAsync(Ns);
        }, d => d.Where(x => oldDigests.ContainsKey(x.Metadata.Name))
                 .All(x => x.Spec.Template.Metadata.Annotations[BuilderCredentials.DigestAnnotation] != oldDigests[x.Metadata.Name]), "both builders to restart with the rotated Secret");
    }

    [Fact]
    public async Task Files_delivery_mounts_the_credentials_at_the_mount_path()
    {
        await using var h = await OperatorHarness.StartAsync();
        await new ResourceClient<V1Secret>(h.Kubernetes).CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "azure", NamespaceProperty = Ns },
            Data = new Dictionary<string, byte[]> { ["account-key"] = "k"u8.ToArray() },
        });
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "azblob", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.CacheBackendCredentials,
                Pool = "ci",
                CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "azure", Delivery = CredentialDelivery.Files, MountPath = "/run/azure" },
            },
        });
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Disabled));

        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"),
            d => d?.Spec.Template.Spec.Volumes.Any(v => v.Secret?.SecretName == "azure") == true, "the builder to mount the credentials");
        var volume = builder!.Spec.Template.Spec.Volumes.Single(v => v.Secret?.SecretName == "azure");
        Assert.Contains(builder.Spec.Template.Spec.Containers[0].VolumeMounts, m => m.Name == volume.Name && m.MountPath == "/run/azure" && m.ReadOnlyProperty == true);
        Assert.Null(builder.Spec.Template.Spec.Containers[0].EnvFrom);
        var binding = await h.WaitAsync(() => new ResourceClient<SecretBinding>(h.Kubernetes).GetAsync(Ns, "azblob"),
            b => b?.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True") == true, "the binding to be Ready");
        Assert.Null(binding!.Status.CertificateSerialNumber);
    }

    [Fact]
    public async Task A_registry_tls_binding_mounts_ca_and_key_pair_and_renders_them_into_buildkitd_toml()
    {
        await using var h = await OperatorHarness.StartAsync();
        var secrets = new ResourceClient<V1Secret>(h.Kubernetes);
        await secrets.CreateAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "reg-ca", NamespaceProperty = Ns }, Data = new Dictionary<string, byte[]> { ["bundle.pem"] = "ca"u8.ToArray() } });
        await secrets.CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "reg-client", NamespaceProperty = Ns },
            Type = "kubernetes.io/tls",
            Data = new Dictionary<string, byte[]> { ["tls.crt"] = "crt"u8.ToArray(), ["tls.key"] = "key"u8.ToArray() },
        });
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "internal-registry", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.RegistryTls,
                Pool = "ci",
                RegistryTls = new RegistryTlsBinding
                {
                    Registry = "registry.internal:5443",
                    CaSecretRef = new SecretKeyReference { Name = "reg-ca", Key = "bundle.pem" },
                    ClientKeyPairSecretRef = new SecretReference { Name = "reg-client" },
                },
            },
        });
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Disabled));

        var configs = new ResourceClient<V1ConfigMap>(h.Kubernetes);
        var config = await h.WaitAsync(() => configs.GetAsync(Ns, "ci-0-buildkitd"),
            c => c?.Data["buildkitd.toml"].Contains("registry.internal:5443", StringComparison.Ordinal) == true, "the registry table");
        GoldenFiles.AssertMatches("bindings", "registry-tls-binding.toml", config!.Data["buildkitd.toml"]);

        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"), d => d is not null, "the builder");
        var projected = builder!.Spec.Template.Spec.Volumes.Single(v => v.Projected is not null);
        Assert.Equal(["reg-ca", "reg-client"], projected.Projected.Sources.Select(s => s.Secret.Name));
        Assert.Equal("bundle.pem", projected.Projected.Sources[0].Secret.Items.Single().Key);
        Assert.Contains(builder.Spec.Template.Spec.Containers[0].VolumeMounts,
            m => m.Name == projected.Name && m.MountPath == $"{BuilderCredentialsPlanner.RegistryBindingRoot}/internal-registry");
    }

    [Fact]
    public async Task A_binding_naming_a_missing_secret_is_stalled_naming_the_field_and_builders_start_without_it()
    {
        await using var h = await OperatorHarness.StartAsync();
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "s3", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.CacheBackendCredentials,
                Pool = "ci",
                CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "not-yet" },
            },
        });
        await h.Pools.CreateAsync(PoolTlsTests.Pool("ci", TlsMode.Disabled));

        // The binding exists before its pool, so it may first stall on spec.pool; wait for the Secret's turn.
        var stalled = await h.WaitAsync(() => bindings.GetAsync(Ns, "s3"),
            b => b?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True" && c.Message.StartsWith("spec.cacheBackendCredentials", StringComparison.Ordinal)) == true,
            "the binding to be Stalled on its Secret");
        Assert.Equal("spec.cacheBackendCredentials.secretName: Secret \"not-yet\" not found in namespace default",
            stalled!.Status.Conditions.Single(c => c.Type == "Stalled").Message);
        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, "ci-0-builder"), d => d is not null, "the builder");
        Assert.Null(builder!.Spec.Template.Spec.Containers[0].EnvFrom);
        Assert.False(builder.Spec.Template.Metadata.Annotations.ContainsKey(BuilderCredentials.DigestAnnotation));
        Assert.Equal(BuilderChildrenPlanner.PodTemplateHashAnnotation, Assert.Single(builder.Spec.Template.Metadata.Annotations).Key);
    }
}
