using BuildPool.Operator.Security;

namespace BuildPool.Operator.Tests.Security;

/// <summary>Certificates from a CA that is not a pool's (an external issuer, another pool).</summary>
internal static class CertificateFixtures
{
    public static CertificateAuthority Ca(string name) =>
        CertificateAuthority.Create(name, DateTime.UtcNow, TimeSpan.FromDays(30)).Authority;

    public static IssuedCertificate Server(CertificateAuthority ca, string dnsName) =>
        ca.Issue(new LeafProfile(dnsName, [dnsName], ServerAuth: true, ClientAuth: false), DateTime.UtcNow, TimeSpan.FromDays(10));
}
