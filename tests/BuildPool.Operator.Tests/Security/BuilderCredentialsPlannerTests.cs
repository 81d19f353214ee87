using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Security;

public sealed class BuilderCredentialsPlannerTests
{
    private static V1Secret Secret(string name, string value = "v") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Data = new Dictionary<string, byte[]> { ["k"] = System.Text.Encoding.UTF8.GetBytes(value) },
    };

    private static SecretBinding Credentials(string name, string secret) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new SecretBindingSpec { Kind = SecretBindingKind.CacheBackendCredentials, Pool = "ci", CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = secret } },
    };

    [Fact]
    public void A_pool_without_tls_or_bindings_adds_nothing_so_existing_builders_do_not_restart()
    {
        var plan = BuilderCredentialsPlanner.Plan(PoolTlsTests.Pool("ci", TlsMode.Disabled), [], _ => null);
        Assert.Same(BuilderCredentials.None, plan);
    }

    [Fact]
    public void A_tls_pool_waits_for_its_builder_certificate()
    {
        Assert.Null(BuilderCredentialsPlanner.Plan(PoolTlsTests.Pool("ci", TlsMode.Managed), [], _ => null));
        var plan = BuilderCredentialsPlanner.Plan(PoolTlsTests.Pool("ci", TlsMode.Managed), [], n => n == "ci-builder-tls" ? Secret(n) : null);
        Assert.Equal("/etc/buildkit-tls/ca.crt", plan!.Tls!.CaPath);
    }

    [Fact]
    public void A_binding_whose_secret_is_missing_is_left_out()
    {
        var plan = BuilderCredentialsPlanner.Plan(PoolTlsTests.Pool("ci", TlsMode.Disabled), [Credentials("a", "present"), Credentials("b", "absent")], n => n == "present" ? Secret(n) : null);
        Assert.Equal(["present"], plan!.EnvFrom.Select(e => e.SecretRef.Name));
    }

    [Fact]
    public void The_digest_changes_with_the_secret_data_and_only_with_it()
    {
        var pool = PoolTlsTests.Pool("ci", TlsMode.Disabled);
        SecretBinding[] bindings = [Credentials("a", "creds")];
        var first = BuilderCredentialsPlanner.Plan(pool, bindings, n => Secret(n, "one"))!.Digest;
        var same = BuilderCredentialsPlanner.Plan(pool, bindings, n => Secret(n, "one"))!.Digest;
        var rotated = BuilderCredentialsPlanner.Plan(pool, bindings, n => Secret(n, "two"))!.Digest;
        Assert.Equal(first, same);
        Assert.NotEqual(first, rotated);
        Assert.Matches("^[0-9a-f]{16}$", first);
    }

    [Fact]
    public void An_isolated_forks_builder_keeps_its_tls_but_gets_no_cache_backend_credentials_by_env_or_file()
    {
        var pool = PoolTlsTests.Pool("ci", TlsMode.Managed);
        var files = Credentials("files", "creds");
        files.Spec.CacheBackendCredentials!.Delivery = CredentialDelivery.Files;
        SecretBinding[] bindings = [Credentials("env", "creds"), files];

        var shared = BuilderCredentialsPlanner.Plan(pool, bindings, n => Secret(n))!;
        var isolated = BuilderCredentialsPlanner.Plan(pool, bindings, n => Secret(n), isolated: true)!;

        Assert.Equal(["creds"], shared.EnvFrom.Select(e => e.SecretRef.Name));
        Assert.Contains(shared.Volumes, v => v.Secret?.SecretName == "creds");
        Assert.Empty(isolated.EnvFrom);
        Assert.DoesNotContain(isolated.Volumes, v => v.Secret?.SecretName == "creds");
        Assert.NotNull(isolated.Tls);
        Assert.Equal(["ci-builder-tls"], isolated.Volumes.Select(v => v.Secret?.SecretName));
    }

    [Fact]
    public void An_endpoint_tls_binding_with_a_client_ca_points_the_gateway_at_it()
    {
        var pool = PoolTlsTests.Pool("ci", TlsMode.Managed);
        var tls = GatewayTls.For(pool, new EndpointTlsBinding
        {
            ServerCertificateSecretRef = new SecretReference { Name = "public-cert" },
            ClientCaSecretRef = new SecretKeyReference { Name = "corp-ca", Key = "bundle.pem" },
        }, digest: null)!;
        Assert.Equal("public-cert", tls.ServerSecret);
        var args = tls.Args().ToList();
        Assert.Equal("/etc/buildpool/ca/client-ca.crt", args[args.IndexOf("--client-ca") + 1]);
        // Builders are verified against the bundle that comes with the gateway's client certificate, never the client CA.
        Assert.Equal("/etc/buildpool/gateway-tls/ca.crt", args[args.IndexOf("--upstream-ca") + 1]);
        Assert.Null(GatewayTls.For(PoolTlsTests.Pool("ci", TlsMode.Disabled), null, null));
    }

    private static RegistryCacheTarget ManagedTarget(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new RegistryCacheTargetSpec { Ref = "cache/app:{key}", Managed = true },
    };

    private static string Toml(BuilderPool pool, BuilderCredentials credentials, bool isolated = false)
    {
        var volume = new CacheVolume
        {
            Metadata = new V1ObjectMeta
            {
                Name = isolated ? "ci-0-ib1c2d3" : "ci-0",
                NamespaceProperty = "default",
                Labels = isolated ? new Dictionary<string, string> { [LifecycleAnnotations.IsolatedForLabel] = "b1c2d3" } : null,
            },
            Spec = new CacheVolumeSpec { Pool = "ci" },
        };
        var settings = CacheVolumeSettings.Resolve(volume, pool, credentials);
        Assert.Empty(settings.Errors);
        return settings.BuildkitdToml;
    }

    [Fact]
    public void A_pools_builders_present_the_managed_registrys_client_certificate_and_trust_its_ca()
    {
        var pool = PoolTlsTests.Pool("ci", TlsMode.Disabled);
        var plan = BuilderCredentialsPlanner.Plan(pool, [], n => n == "cache-registry-client" ? Secret(n) : null, managedRegistries: [ManagedTarget("cache")])!;

        var volume = Assert.Single(plan.Volumes);
        var projected = Assert.Single(volume.Projected.Sources.Select(s => s.Secret), s => s.Items.Any(i => i.Key == "tls.key"));
        Assert.Equal("cache-registry-client", projected.Name);
        Assert.Equal("/etc/buildkit-registries/managed/cache", Assert.Single(plan.Mounts).MountPath);
        Assert.NotNull(plan.Digest);

        var toml = Toml(pool, plan);
        Assert.Contains("[registry.\"cache-registry.default.svc:5000\"]", toml, StringComparison.Ordinal);
        Assert.Contains("ca = [\"/etc/buildkit-registries/managed/cache/ca.crt\"]", toml, StringComparison.Ordinal);
        Assert.Contains("[[registry.\"cache-registry.default.svc:5000\".keypair]]", toml, StringComparison.Ordinal);
        Assert.Contains("key = \"/etc/buildkit-registries/managed/cache/tls.key\"", toml, StringComparison.Ordinal);
        Assert.Contains("cert = \"/etc/buildkit-registries/managed/cache/tls.crt\"", toml, StringComparison.Ordinal);
        // mTLS, not plain HTTP: the table must not switch the host to http or skip verification.
        Assert.DoesNotContain("http = true", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("insecure = true", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void An_isolated_forks_builder_trusts_the_managed_registrys_ca_for_its_read_only_listener_and_holds_no_client_keypair()
    {
        var pool = PoolTlsTests.Pool("ci", TlsMode.Disabled);
        var plan = BuilderCredentialsPlanner.Plan(pool, [], n => n == "cache-registry-client" ? Secret(n) : null, isolated: true, managedRegistries: [ManagedTarget("cache")])!;

        var items = plan.Volumes.SelectMany(v => v.Projected?.Sources ?? []).SelectMany(s => s.Secret?.Items ?? []).Select(i => i.Key).ToList();
        Assert.Equal(["ca.crt"], items);
        var toml = Toml(pool, plan, isolated: true);
        Assert.Contains("[registry.\"cache-registry.default.svc:5001\"]", toml, StringComparison.Ordinal);
        Assert.Contains("ca = [\"/etc/buildkit-registries/managed/cache/ca.crt\"]", toml, StringComparison.Ordinal);
        // The read-write listener is of no use to a fork: it takes no connection without a keypair.
        Assert.DoesNotContain("cache-registry.default.svc:5000", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("keypair", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("tls.key", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void A_managed_registry_whose_client_certificate_is_not_issued_yet_is_left_out_until_it_is()
    {
        var pool = PoolTlsTests.Pool("ci", TlsMode.Disabled);
        Assert.Same(BuilderCredentials.None, BuilderCredentialsPlanner.Plan(pool, [], _ => null, managedRegistries: [ManagedTarget("cache")]));
    }
}
