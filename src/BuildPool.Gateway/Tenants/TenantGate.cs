using System.Security.Cryptography.X509Certificates;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Decides, per call, whether the client certificate of the connection may still build. The TLS
/// handshake already proved the certificate chains to the pool's tenant CA and carries the
/// clientAuth usage; this adds what a CA cannot say: that its SecretBinding still exists. Asked on every call, not once per connection, so a
/// revoked tenant's next build is refused on a connection that stayed open.
/// </summary>
public static class TenantGate
{
    /// <summary>gRPC PERMISSION_DENIED: the caller is authenticated (the CA signed it) but no longer authorised.</summary>
    public const int PermissionDenied = 7;

    /// <summary>gRPC UNAVAILABLE: the gateway cannot check yet; a retry may pass.</summary>
    public const int Unavailable = 14;

    /// <summary>
    /// The verdict for a call on a connection that presented <paramref name="certificate"/>.
    /// Without a directory (static <c>--backend</c> mode) every certificate that passed the
    /// handshake is a tenant of its own, without limits. Without a certificate the call is
    /// anonymous: the handshake only lets that through when client certificates are optional.
    /// </summary>
    public static TenantVerdict Check(X509Certificate2? certificate, ITenantDirectory? directory)
    {
        if (certificate is null)
        {
            return default;
        }

        if (!ClientAuthUsage.Allows(certificate))
        {
            // The handshake refuses these already; this holds for any other way a certificate gets here.
            return new TenantVerdict(null, ClientAuthUsage.Refusal, PermissionDenied, ClientAuthUsage.Describe(certificate));
        }

        var identity = IdentityOf(certificate) ?? certificate.Subject;
        var serial = CertificateSerial.Normalize(certificate.SerialNumber);
        if (directory is null)
        {
            return new TenantVerdict(new TenantInfo(identity, serial), null, 0, null);
        }

        if (!directory.IsSynced)
        {
            return new TenantVerdict(null, "tenants_not_synced", Unavailable, $"client certificate {identity} (serial {serial}): the gateway has not read the SecretBindings of {directory.Scope} yet; retry shortly");
        }

        if (directory.Find(serial) is { } tenant)
        {
            return new TenantVerdict(tenant, null, 0, null);
        }

        return new TenantVerdict(
            null,
            "unbound_certificate",
            PermissionDenied,
            $"client certificate {identity} (serial {serial}) is not allowed to build: its SecretBinding (kind ClientAccess) for {directory.Scope} was deleted or never existed");
    }

    /// <summary>The certificate identity: the subject CN, else the first URI SAN; null when it has neither.</summary>
    public static string? IdentityOf(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return null;
        }

        var name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (string.IsNullOrEmpty(name))
        {
            name = certificate.GetNameInfo(X509NameType.UrlName, forIssuer: false);
        }

        return string.IsNullOrEmpty(name) ? null : name;
    }
}
