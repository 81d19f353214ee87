using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Security;

/// <summary>
/// Managed PKI of a pool whose endpoint has TLS: the pool CA, the gateway certificate and the
/// builder certificate, each in a Secret the pool owns. A certificate is issued again when it is
/// missing, unreadable, not signed by the current CA, for other names, or past two thirds of
/// its lifetime. The CA itself is only replaced when it is unreadable or past two thirds of its
/// (long) lifetime; that also reissues everything it signed.
/// </summary>
public sealed partial class PoolCertificates(OperatorCaches caches, OperatorOptions options, ILogger logger)
{
    public async Task<PoolTls> EnsureAsync(BuilderPool pool, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var ns = pool.Metadata.NamespaceProperty;
        var name = pool.Metadata.Name;

        var caSecret = await ReadAsync(ns, ResourceNames.CaSecret(name), cancellationToken);
        var ca = CertificateAuthority.TryLoad(Text(caSecret, TlsSecretKeys.CaCertificate), Text(caSecret, TlsSecretKeys.CaPrivateKey));
        if (ca is null || now >= CertificateRenewal.RenewAt(ca.Certificate))
        {
            ca?.Dispose();
            (ca, var keyPem) = CertificateAuthority.Create(PoolCertificateNames.CaCommonName(pool), now, options.CaValidity);
            caSecret = await WriteAsync(Desired(pool, ResourceNames.CaSecret(name), "ca", TlsSecretKeys.OpaqueType, new()
            {
                [TlsSecretKeys.CaCertificate] = ca.CertificatePem,
                [TlsSecretKeys.CaPrivateKey] = keyPem,
            }), caSecret, cancellationToken);
            Log.CaCreated(logger, caSecret.Metadata.Name, ca.Certificate.NotAfter.ToUniversalTime());
        }

        using (ca)
        {
            var (gateway, gatewayRenew) = await EnsureLeafAsync(pool, ca, ResourceNames.GatewayTlsSecret(name), WellKnown.GatewayComponent,
                new LeafProfile($"{ResourceNames.GatewayService(name)}.{ns}.svc", PoolCertificateNames.Gateway(pool), ServerAuth: true, ClientAuth: true), now, cancellationToken);
            var (builder, builderRenew) = await EnsureLeafAsync(pool, ca, ResourceNames.BuilderTlsSecret(name), WellKnown.BuilderComponent,
                new LeafProfile($"{name} builders {ns}", PoolCertificateNames.Builders(pool), ServerAuth: true, ClientAuth: false), now, cancellationToken);
            var renewAt = new[] { gatewayRenew, builderRenew, CertificateRenewal.RenewAt(ca.Certificate) }.Min();
            return new PoolTls(caSecret!, gateway, builder, renewAt);
        }
    }

    /// <summary>The pool CA, loaded from its Secret; null while it does not exist yet.</summary>
    public async Task<CertificateAuthority?> LoadCaAsync(string? @namespace, string pool, CancellationToken cancellationToken)
    {
        var secret = await ReadAsync(@namespace, ResourceNames.CaSecret(pool), cancellationToken);
        return CertificateAuthority.TryLoad(Text(secret, TlsSecretKeys.CaCertificate), Text(secret, TlsSecretKeys.CaPrivateKey));
    }

    public static string? Text(V1Secret? secret, string key) =>
        secret?.Data is { } data && data.TryGetValue(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>
    /// The certificate in <paramref name="secret"/> when it still serves: readable with its key,
    /// signed by <paramref name="ca"/>, for exactly <paramref name="dnsNames"/>, and not yet due.
    /// </summary>
    public static X509Certificate2? Current(V1Secret? secret, string certificateKey, string keyKey, CertificateAuthority ca, IReadOnlyList<string>? dnsNames, string? commonName, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(ca);
        var certificatePem = Text(secret, certificateKey);
        var keyPem = Text(secret, keyKey);
        if (certificatePem is null || keyPem is null)
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (CryptographicException)
        {
            return null;
        }

        var fits = ca.Issued(certificate, now)
            && now < CertificateRenewal.RenewAt(certificate)
            && (dnsNames is null || CertificateAuthority.DnsNamesOf(certificate).ToHashSet(StringComparer.Ordinal).SetEquals(dnsNames))
            && (commonName is null || certificate.GetNameInfo(X509NameType.SimpleName, false) == commonName);
        if (!fits)
        {
            certificate.Dispose();
            return null;
        }

        return certificate;
    }

    private async Task<(V1Secret Secret, DateTime RenewAt)> EnsureLeafAsync(BuilderPool pool, CertificateAuthority ca, string secretName, string component, LeafProfile profile, DateTime now, CancellationToken cancellationToken)
    {
        var existing = await ReadAsync(pool.Metadata.NamespaceProperty, secretName, cancellationToken);
        using (var current = Current(existing, TlsSecretKeys.Certificate, TlsSecretKeys.PrivateKey, ca, profile.DnsNames, null, now))
        {
            if (current is not null && Text(existing, TlsSecretKeys.CaCertificate) == ca.CertificatePem)
            {
                return (existing!, CertificateRenewal.RenewAt(current));
            }
        }

        var issued = ca.Issue(profile, now, options.ServerCertificateValidity);
        var written = await WriteAsync(Desired(pool, secretName, component, TlsSecretKeys.TlsType, new()
        {
            [TlsSecretKeys.Certificate] = issued.CertificatePem,
            [TlsSecretKeys.PrivateKey] = issued.PrivateKeyPem,
            [TlsSecretKeys.CaCertificate] = ca.CertificatePem,
        }), existing, cancellationToken);
        Log.Issued(logger, secretName, issued.SerialNumber, issued.NotAfter, existing is null ? "new" : "renewed");
        return (written, CertificateRenewal.RenewAt(issued.NotBefore, issued.NotAfter));
    }

    private static V1Secret Desired(BuilderPool pool, string name, string component, string type, Dictionary<string, string> data) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = Owners.ChildMeta(pool, name, Owners.PoolLabels(pool.Metadata.Name, component)),
        Type = type,
        Data = data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value), StringComparer.Ordinal),
    };

    // The cache may not show a Secret written a moment ago: read it live before concluding that
    // it is missing, because issuing a second CA would invalidate every certificate of the first.
    private Task<V1Secret?> ReadAsync(string? @namespace, string name, CancellationToken cancellationToken) =>
        caches.SecretReader.ReadThroughAsync(@namespace, name, cancellationToken);

    private async Task<V1Secret> WriteAsync(V1Secret desired, V1Secret? existing, CancellationToken cancellationToken)
    {
        if (existing is null)
        {
            return await caches.SecretClient.CreateAsync(desired, cancellationToken);
        }

        if (existing.Metadata.Labels?.TryGetValue(WellKnown.ManagedByLabel, out var by) != true || by != WellKnown.ManagedByValue)
        {
            throw new ChildConflictException($"Secret {existing.Metadata.NamespaceProperty}/{existing.Metadata.Name} already exists and is not managed by BuildPool; its certificate cannot be used or renewed");
        }

        // Replace with the read resourceVersion: a concurrent writer makes this a conflict
        // (the reconcile is retried) instead of one certificate silently replacing another.
        desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
        desired.Metadata.Annotations = existing.Metadata.Annotations;
        return await caches.SecretClient.ReplaceAsync(desired, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Created pool CA in Secret {Secret}, valid until {NotAfter:O}")]
        public static partial void CaCreated(ILogger logger, string secret, DateTime notAfter);

        [LoggerMessage(Level = LogLevel.Information, Message = "Issued certificate {Serial} into Secret {Secret} ({Why}), valid until {NotAfter:O}")]
        public static partial void Issued(ILogger logger, string secret, string serial, DateTime notAfter, string why);
    }
}
