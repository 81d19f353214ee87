using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Tenants;
using k8s.Models;

namespace BuildPool.Gateway.Tests.Tenants;

public sealed class TenantBindingsTests
{
    public static TheoryData<string, Action<SecretBinding>, bool> Cases => new()
    {
        { "a ClientAccess binding of the pool with an issued serial grants access", _ => { }, true },
        { "a binding of another pool grants nothing here", b => b.Spec.Pool = "other", false },
        { "a binding being deleted grants nothing", b => b.Metadata.DeletionTimestamp = DateTime.UtcNow, false },
        { "a binding the operator has not issued for yet grants nothing", b => b.Status.CertificateSerialNumber = null, false },
        { "a serial without hex digits grants nothing", b => b.Status.CertificateSerialNumber = "--", false },
        {
            "another kind of binding grants nothing", b =>
            {
                b.Spec.Kind = SecretBindingKind.RegistryTls;
                b.Spec.ClientAccess = null;
            },
            false
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Only_live_client_access_bindings_of_the_pool_are_tenants(string because, Action<SecretBinding> change, bool grants)
    {
        var binding = Binding("alpha", "0A1B2C");
        change(binding);

        Assert.True(grants == TenantBindings.ToTenant(binding, "pool") is not null, because);
    }

    [Fact]
    public void A_tenant_carries_its_identity_binding_limit_and_trust()
    {
        var binding = Binding("alpha", "00:a1:b2");
        binding.Spec.ClientAccess!.MaxConcurrentBuilds = 3;
        binding.Spec.ClientAccess.Untrusted = true;

        var tenant = TenantBindings.ToTenant(binding, "pool")!;

        Assert.Equal(new TenantInfo("team/alpha", "A1B2") { Binding = "ci/alpha", MaxConcurrentBuilds = 3, Untrusted = true }, tenant);
    }

    [Fact]
    public void The_directory_finds_a_tenant_by_the_serial_as_x509_prints_it_and_forgets_it_when_replaced()
    {
        var directory = new TenantDirectory("BuilderPool ci/pool");
        Assert.False(directory.IsSynced);

        directory.Replace(TenantBindings.From([Binding("beta", "00C1D2"), Binding("alpha", "0A1B2C")], "pool"));

        Assert.True(directory.IsSynced);
        Assert.Equal("team/alpha", directory.Find("0A1B2C")?.Identity);
        Assert.Equal("team/beta", directory.Find("00C1D2")?.Identity);
        Assert.Equal("team/beta", directory.Find("c1d2")?.Identity);
        Assert.Equal("C1D2", directory.FindByIdentity("team/beta")?.SerialNumber);

        directory.Replace(TenantBindings.From([Binding("beta", "00C1D2")], "pool"));

        Assert.Null(directory.Find("0A1B2C"));
        Assert.Null(directory.FindByIdentity("team/alpha"));
        Assert.NotNull(directory.Find("00C1D2"));
    }

    [Fact]
    public void A_binding_marked_untrusted_makes_its_identity_untrusted_beside_the_static_patterns()
    {
        var directory = new TenantDirectory("BuilderPool ci/pool");
        var untrusted = Binding("forks", "0F");
        untrusted.Spec.ClientAccess!.Untrusted = true;
        directory.Replace(TenantBindings.From([untrusted, Binding("alpha", "0A")], "pool"));
        var identities = new TenantUntrustedIdentities(directory, new Gateway.Isolation.StaticUntrustedIdentities(["ci/*"]));

        Assert.True(identities.IsUntrusted("team/forks"));
        Assert.False(identities.IsUntrusted("team/alpha"));
        Assert.True(identities.IsUntrusted("ci/anything"));

        directory.Replace([]);

        Assert.False(identities.IsUntrusted("team/forks"));
    }

    [Theory]
    [InlineData("00A1B2", "A1B2")]
    [InlineData("00:a1:b2", "A1B2")]
    [InlineData("0a 1b", "A1B")]
    [InlineData("00", "0")]
    [InlineData("", "")]
    public void Serials_compare_as_uppercase_hex_without_leading_zeros_or_separators(string serial, string normalized) =>
        Assert.Equal(normalized, CertificateSerial.Normalize(serial));

    private static SecretBinding Binding(string name, string? serial) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ci" },
        Spec = new SecretBindingSpec
        {
            Kind = SecretBindingKind.ClientAccess,
            Pool = "pool",
            ClientAccess = new ClientAccessBinding { TargetNamespace = "team" },
        },
        Status = new SecretBindingStatus { CertificateSerialNumber = serial },
    };
}
