using System.Security.Cryptography.X509Certificates;
using BuildPool.Operator.Security;

namespace BuildPool.Operator.Tests.Security;

public sealed class CertificateAuthorityTests
{
    private static readonly DateTime Now = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void A_client_certificate_carries_the_contract_subject_a_16_byte_positive_serial_and_client_auth_only()
    {
        using var ca = CertificateAuthority.Create("pool", Now, TimeSpan.FromDays(3650)).Authority;
        var issued = ca.Issue(new LeafProfile("team-a/ci", [], ServerAuth: false, ClientAuth: true), Now, TimeSpan.FromHours(3));
        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem, issued.PrivateKeyPem);

        Assert.Equal("CN=team-a/ci, O=buildpool.dev", certificate.Subject);
        Assert.Equal("team-a/ci", certificate.GetNameInfo(X509NameType.SimpleName, false));
        Assert.Equal(certificate.SerialNumber, issued.SerialNumber);
        Assert.Matches("^[0-9A-F]{32}$", issued.SerialNumber);
        Assert.InRange(Convert.ToByte(issued.SerialNumber[..2], 16), 0x01, 0x7F);
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));
        Assert.Empty(CertificateAuthority.DnsNamesOf(certificate));
        Assert.Equal(Now - CertificateAuthority.ClockSkew, issued.NotBefore);
        Assert.Equal(Now + TimeSpan.FromHours(3), issued.NotAfter);
        Assert.True(ca.Issued(certificate, Now));
    }

    [Fact]
    public void Two_certificates_never_share_a_serial_number()
    {
        using var ca = CertificateAuthority.Create("pool", Now, TimeSpan.FromDays(30)).Authority;
        var serials = Enumerable.Range(0, 50).Select(_ => ca.Issue(new LeafProfile("t/b", [], false, true), Now, TimeSpan.FromHours(1)).SerialNumber).ToHashSet();
        Assert.Equal(50, serials.Count);
    }

    [Fact]
    public void A_certificate_from_another_ca_or_past_its_expiry_is_not_recognised()
    {
        using var ours = CertificateAuthority.Create("ours", Now, TimeSpan.FromDays(30)).Authority;
        using var theirs = CertificateAuthority.Create("theirs", Now, TimeSpan.FromDays(30)).Authority;
        var foreign = theirs.Issue(new LeafProfile("t/b", [], false, true), Now, TimeSpan.FromHours(1));
        var own = ours.Issue(new LeafProfile("t/b", [], false, true), Now, TimeSpan.FromHours(1));
        using var foreignCertificate = X509Certificate2.CreateFromPem(foreign.CertificatePem);
        using var ownCertificate = X509Certificate2.CreateFromPem(own.CertificatePem);

        Assert.False(ours.Issued(foreignCertificate, Now));
        Assert.True(ours.Issued(ownCertificate, Now));
        Assert.False(ours.Issued(ownCertificate, Now + TimeSpan.FromHours(2)));
    }

    [Fact]
    public void A_leaf_never_outlives_its_ca()
    {
        using var ca = CertificateAuthority.Create("short", Now, TimeSpan.FromDays(1)).Authority;
        var issued = ca.Issue(new LeafProfile("gw", ["gw.default.svc"], true, true), Now, TimeSpan.FromDays(90));
        Assert.Equal(ca.Certificate.NotAfter.ToUniversalTime(), issued.NotAfter);
    }

    [Fact]
    public void A_ca_reloads_from_its_pem_and_keeps_signing_what_the_original_recognises()
    {
        var (original, keyPem) = CertificateAuthority.Create("pool", Now, TimeSpan.FromDays(30));
        using (original)
        using (var reloaded = CertificateAuthority.TryLoad(original.CertificatePem, keyPem))
        {
            Assert.NotNull(reloaded);
            var issued = reloaded!.Issue(new LeafProfile("t/b", [], false, true), Now, TimeSpan.FromHours(1));
            using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
            Assert.True(original.Issued(certificate, Now));
        }

        Assert.Null(CertificateAuthority.TryLoad("not a certificate", keyPem));
        Assert.Null(CertificateAuthority.TryLoad(null, keyPem));
    }

    [Fact]
    public void Renewal_is_due_after_two_thirds_of_the_lifetime()
    {
        Assert.Equal(Now + TimeSpan.FromHours(2), CertificateRenewal.RenewAt(Now, Now + TimeSpan.FromHours(3)));
        Assert.Equal(TimeSpan.FromSeconds(1), CertificateRenewal.Until(Now, Now + TimeSpan.FromHours(1)));
    }

    [Fact]
    public void An_issued_certificate_prints_without_its_private_key()
    {
        using var ca = CertificateAuthority.Create("pool", Now, TimeSpan.FromDays(30)).Authority;
        var issued = ca.Issue(new LeafProfile("t/b", [], false, true), Now, TimeSpan.FromHours(1));
        Assert.DoesNotContain("PRIVATE KEY", issued.ToString(), StringComparison.Ordinal);
        Assert.Contains(issued.SerialNumber, issued.ToString(), StringComparison.Ordinal);
    }
}
