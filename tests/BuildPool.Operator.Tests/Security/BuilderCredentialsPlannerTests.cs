using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Tests.Integration;
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
}
