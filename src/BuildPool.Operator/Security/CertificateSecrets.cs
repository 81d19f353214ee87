using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Security;

/// <summary>
/// CAs and the leaf certificates they sign, kept in Secrets an object owns (a pool's PKI, a
/// managed registry's). One rotation rule for all of them: a leaf is issued again when it is
/// missing, unreadable, not signed by its CA, for other names or usages, or past two thirds of
/// its lifetime; a CA is replaced only when it is unreadable or past two thirds of its (long)
/// lifetime, and that reissues everything it signed.
/// </summary>
public sealed partial class CertificateSecrets(OperatorCaches caches, OperatorOptions options, ILogger logger)
{
    /// <summary>
    /// The CA in <paramref name="secretName"/>, created when missing, unreadable or due; a
    /// created one carries <paramref name="annotationsWhenCreated"/>.
    /// </summary>
    public async Task<(V1Secret Secret, CertificateAuthority Ca)> EnsureCaAsync(IKubernetesObject<V1ObjectMeta> owner, string secretName, IDictionary<string, string> labels, string commonName, DateTime now, CancellationToken cancellationToken, IDictionary<string, string>? annotationsWhenCreated = null)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var secret = await ReadAsync(owner.Metadata.NamespaceProperty, secretName, cancellationToken);
        var ca = CertificateAuthority.TryLoad(Text(secret, TlsSecretKeys.CaCertificate), Text(secret, TlsSecretKeys.CaPrivateKey));
        if (ca is not null && now < CertificateRenewal.RenewAt(ca.Certificate))
        {
            return (secret!, ca);
        }

        ca?.Dispose();
        (ca, var keyPem) = CertificateAuthority.Create(commonName, now, options.CaValidity);
        var desired = Desired(owner, secretName, labels, TlsSecretKeys.OpaqueType, new()
        {
            [TlsSecretKeys.CaCertificate] = ca.CertificatePem,
            [TlsSecretKeys.CaPrivateKey] = keyPem,
        });
        if (annotationsWhenCreated is not null && secret is null)
        {
            desired.Metadata.Annotations = new Dictionary<string, string>(annotationsWhenCreated, StringComparer.Ordinal);
        }

        secret = await WriteAsync(desired, secret, cancellationToken);
        Log.CaCreated(logger, secret.Metadata.Name, ca.Certificate.NotAfter.ToUniversalTime());
        return (secret, ca);
    }

    /// <summary>
    /// The leaf certificate in <paramref name="secretName"/>, issued by <paramref name="issuer"/>,
    /// next to <paramref name="trust"/> as ca.crt. A certificate that still serves is kept when
    /// only ca.crt changes: a server restarting for a new trust bundle keeps its identity.
    /// </summary>
    public async Task<(V1Secret Secret, DateTime RenewAt)> EnsureLeafAsync(IKubernetesObject<V1ObjectMeta> owner, CertificateAuthority issuer, string secretName, IDictionary<string, string> labels, LeafProfile profile, string trust, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(profile);
        var existing = await ReadAsync(owner.Metadata.NamespaceProperty, secretName, cancellationToken);
        using (var current = Current(existing, TlsSecretKeys.Certificate, TlsSecretKeys.PrivateKey, issuer, profile.DnsNames, profile.CommonName, now))
        {
            if (current is not null && Usable(current, profile))
            {
                if (Text(existing, TlsSecretKeys.CaCertificate) == trust)
                {
                    return (existing!, CertificateRenewal.RenewAt(current));
                }

                var kept = await WriteAsync(Desired(owner, secretName, labels, TlsSecretKeys.TlsType, new()
                {
                    [TlsSecretKeys.Certificate] = Text(existing, TlsSecretKeys.Certificate)!,
                    [TlsSecretKeys.PrivateKey] = Text(existing, TlsSecretKeys.PrivateKey)!,
                    [TlsSecretKeys.CaCertificate] = trust,
                }), existing, cancellationToken);
                Log.TrustChanged(logger, secretName, current.SerialNumber);
                return (kept, CertificateRenewal.RenewAt(current));
            }
        }

        var issued = issuer.Issue(profile, now, options.ServerCertificateValidity);
        var written = await WriteAsync(Desired(owner, secretName, labels, TlsSecretKeys.TlsType, new()
        {
            [TlsSecretKeys.Certificate] = issued.CertificatePem,
            [TlsSecretKeys.PrivateKey] = issued.PrivateKeyPem,
            [TlsSecretKeys.CaCertificate] = trust,
        }), existing, cancellationToken);
        Log.Issued(logger, secretName, issued.SerialNumber, issued.NotAfter, existing is null ? "new" : "renewed");
        return (written, CertificateRenewal.RenewAt(issued.NotBefore, issued.NotAfter));
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

    // The cache may not show a Secret written a moment ago: read it live before concluding that
    // it is missing, because issuing a second CA would invalidate every certificate of the first.
    public Task<V1Secret?> ReadAsync(string? @namespace, string name, CancellationToken cancellationToken) =>
        caches.SecretReader.ReadThroughAsync(@namespace, name, cancellationToken);

    // A certificate that must stop being a client certificate (the gateway's, once builders no
    // longer take it) is reissued; one that lacks a usage it now needs is too.
    private static bool Usable(X509Certificate2 certificate, LeafProfile profile)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<Oid>()).Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
        return usages.Contains(CertificateAuthority.ServerAuth) == profile.ServerAuth
            && usages.Contains(CertificateAuthority.ClientAuth) == profile.ClientAuth;
    }

    private static V1Secret Desired(IKubernetesObject<V1ObjectMeta> owner, string name, IDictionary<string, string> labels, string type, Dictionary<string, string> data) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = Owners.ChildMeta(owner, name, labels),
        Type = type,
        Data = data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value), StringComparer.Ordinal),
    };

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
        [LoggerMessage(Level = LogLevel.Information, Message = "Created CA in Secret {Secret}, valid until {NotAfter:O}")]
        public static partial void CaCreated(ILogger logger, string secret, DateTime notAfter);

        [LoggerMessage(Level = LogLevel.Information, Message = "Issued certificate {Serial} into Secret {Secret} ({Why}), valid until {NotAfter:O}")]
        public static partial void Issued(ILogger logger, string secret, string serial, DateTime notAfter, string why);

        [LoggerMessage(Level = LogLevel.Information, Message = "Kept certificate {Serial} in Secret {Secret} with a new CA bundle (ca.crt)")]
        public static partial void TrustChanged(ILogger logger, string secret, string serial);
    }
}
