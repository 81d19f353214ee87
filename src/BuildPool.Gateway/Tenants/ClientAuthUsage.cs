using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// A downstream client certificate must say it is for TLS client authentication (extended key
/// usage <c>clientAuth</c>). Chaining to the client CA is not enough: a CA that also signs server
/// certificates (a FromSecret issuer, a company CA) would otherwise let the holder of any server
/// key it signed connect as a tenant. A certificate without the extension at all is refused too,
/// although Go's TLS treats it as good for any use: the operator always writes the usage, and a
/// tenant's CA that leaves it out is a CA to fix, not a certificate to guess about.
/// </summary>
public static class ClientAuthUsage
{
    /// <summary>The OID of <c>id-kp-clientAuth</c> (RFC 5280 section 4.2.1.12).</summary>
    public const string Oid = "1.3.6.1.5.5.7.3.2";

    /// <summary>Refusal reason in metrics and the gRPC message.</summary>
    public const string Refusal = "client_auth_usage_missing";

    public static bool Allows(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage)
            {
                foreach (var oid in usage.EnhancedKeyUsages)
                {
                    if (oid.Value == Oid)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>What the refusal says: which certificate, what it lacks, and what it carries instead.</summary>
    public static string Describe(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .SelectMany(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>())
            .Select(o => o.FriendlyName is { Length: > 0 } friendly ? friendly : o.Value)
            .ToList();
        var has = usages.Count == 0 ? "no extended key usage" : $"extended key usage {string.Join(", ", usages)}";
        return $"client certificate {certificate.Subject} (serial {CertificateSerial.Normalize(certificate.SerialNumber)}) is not for TLS client authentication: it has {has}, and the gateway requires clientAuth ({Oid})";
    }
}
