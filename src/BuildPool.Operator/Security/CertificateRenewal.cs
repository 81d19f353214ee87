using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Operator.Security;

/// <summary>
/// Every certificate the operator issues is renewed after two thirds of its lifetime: early
/// enough that a failed renewal has a third of the lifetime to be noticed and fixed.
/// </summary>
public static class CertificateRenewal
{
    public static DateTime RenewAt(DateTime notBefore, DateTime notAfter) =>
        notBefore.ToUniversalTime() + ((notAfter.ToUniversalTime() - notBefore.ToUniversalTime()) * 2 / 3);

    public static DateTime RenewAt(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return RenewAt(certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime());
    }

    /// <summary>How long until <paramref name="renewAt"/>, at least a second so a requeue never spins.</summary>
    public static TimeSpan Until(DateTime renewAt, DateTime now)
    {
        var left = renewAt - now;
        return left > TimeSpan.FromSeconds(1) ? left + TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1);
    }
}
