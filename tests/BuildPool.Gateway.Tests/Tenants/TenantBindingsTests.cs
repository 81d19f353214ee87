using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Tenants;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

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

        Assert.Equal(new TenantInfo("team/alpha", "A1B2") { Binding = "ci/alpha", MaxConcurrentBuilds = 3, Untrusted = true, KeyNamespace = "alpha" }, tenant);
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

    [Fact]
    public void A_renewed_bindings_previous_serial_finds_the_same_tenant_until_its_not_after()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        var directory = new TenantDirectory("BuilderPool ci/pool", clock);
        var binding = Binding("alpha", "0B");
        binding.Spec.ClientAccess!.MaxConcurrentBuilds = 2;
        binding.Status.PreviousCertificateSerialNumber = "0A";
        binding.Status.PreviousCertificateNotAfter = new DateTime(2026, 11, 22, 13, 0, 0, DateTimeKind.Utc);

        directory.Replace(TenantBindings.From([binding], "pool"));

        var current = directory.Find("0B");
        Assert.Equal(new TenantInfo("team/alpha", "B") { Binding = "ci/alpha", MaxConcurrentBuilds = 2, KeyNamespace = "alpha" }, current);
        Assert.Equal(current! with { SerialNumber = "A", AcceptedUntil = new DateTimeOffset(2026, 11, 22, 13, 0, 0, TimeSpan.Zero) }, directory.Find("0A"));
        Assert.Equal("B", directory.FindByIdentity("team/alpha")?.SerialNumber);

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.NotNull(directory.Find("0A"));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(directory.Find("0A"));
        using var certificate = TestCertificate("0A");
        Assert.Equal("unbound_certificate", TenantGate.Check(certificate, directory).Refusal);
        Assert.Equal(current, directory.Find("0B"));
    }

    [Fact]
    public void A_bound_serial_on_a_certificate_without_the_client_auth_usage_is_refused_naming_the_usage()
    {
        var directory = new TenantDirectory("BuilderPool ci/pool");
        directory.Replace(TenantBindings.From([Binding("alpha", "0B")], "pool"));
        using var serverOnly = TestCertificate("0B", clientAuth: false);
        using var client = TestCertificate("0B");

        var refused = TenantGate.Check(serverOnly, directory);

        Assert.False(refused.Allowed);
        Assert.Equal((ClientAuthUsage.Refusal, TenantGate.PermissionDenied), (refused.Refusal, refused.GrpcStatus));
        Assert.Contains("is not for TLS client authentication", refused.Message, StringComparison.Ordinal);
        Assert.True(TenantGate.Check(client, directory).Allowed);
    }

    [Fact]
    public void A_previous_serial_without_a_not_after_grants_nothing()
    {
        var directory = new TenantDirectory("BuilderPool ci/pool");
        var binding = Binding("alpha", "0B");
        binding.Status.PreviousCertificateSerialNumber = "0A";

        directory.Replace(TenantBindings.From([binding], "pool"));

        Assert.Null(directory.Find("0A"));
        Assert.NotNull(directory.Find("0B"));
    }

    [Fact]
    public void A_binding_being_deleted_grants_neither_its_current_nor_its_previous_serial()
    {
        var directory = new TenantDirectory("BuilderPool ci/pool");
        var binding = Binding("alpha", "0B");
        binding.Status.PreviousCertificateSerialNumber = "0A";
        binding.Status.PreviousCertificateNotAfter = DateTime.UtcNow.AddHours(1);
        directory.Replace(TenantBindings.From([binding], "pool"));
        Assert.NotNull(directory.Find("0A"));

        binding.Metadata.DeletionTimestamp = DateTime.UtcNow;
        directory.Replace(TenantBindings.From([binding], "pool"));

        Assert.Null(directory.Find("0A"));
        Assert.Null(directory.Find("0B"));
    }

    [Theory]
    [InlineData("00A1B2", "A1B2")]
    [InlineData("00:a1:b2", "A1B2")]
    [InlineData("0a 1b", "A1B")]
    [InlineData("00", "0")]
    [InlineData("", "")]
    public void Serials_compare_as_uppercase_hex_without_leading_zeros_or_separators(string serial, string normalized) =>
        Assert.Equal(normalized, CertificateSerial.Normalize(serial));

    // A certificate with the given serial, for TenantGate (which reads the serial and the CN).
    private static X509Certificate2 TestCertificate(string serial, bool clientAuth = true)
    {
        using var key = ECDsa.Create();
        var request = new CertificateRequest("CN=team/alpha", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(clientAuth ? ClientAuthUsage.Oid : "1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddMinutes(-1), now.AddHours(1), Convert.FromHexString(serial));
        return X509CertificateLoader.LoadCertificate(certificate.RawData);
    }

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
