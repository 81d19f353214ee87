using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Security;

/// <summary>
/// The operator's own client certificate towards a TLS pool's builders (for readiness, drain and
/// GC calls): the one the gateway presents, so whatever builders take from the gateway they take
/// from the operator, in every step of a pool's move to the internal CA. Read from the Secrets
/// cache and parsed once per Secret version.
/// </summary>
public sealed class BuilderClientCredentials(OperatorCaches caches)
{
    private readonly ConcurrentDictionary<string, (string Version, BuildKitClientOptions Options)> _parsed = new(StringComparer.Ordinal);

    /// <summary>Client options for the builder of <paramref name="volume"/>; null for plain gRPC.</summary>
    public BuildKitClientOptions? For(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var ns = volume.Metadata.NamespaceProperty;
        // Dial the builder the way its Deployment is configured, not the way the pool asks for:
        // while TLS is switched on, a builder still draining for the change serves plain gRPC.
        var builder = caches.Deployments.Cache.Get(ns, ResourceNames.Builder(volume.Metadata.Name));
        if (builder?.Spec?.Template?.Spec?.Volumes?.Any(v => v.Name == Bindings.BuilderCredentialsPlanner.TlsVolume) != true)
        {
            return null;
        }

        var gateway = caches.Deployments.Cache.Get(ns, ResourceNames.Gateway(volume.Spec.Pool));
        var secret = caches.SecretReader.Cached(ns, PoolCertificates.GatewayUpstreamSecret(gateway) ?? ResourceNames.BuilderClientTlsSecret(volume.Spec.Pool));
        var certificatePem = PoolCertificates.Text(secret, TlsSecretKeys.Certificate);
        var keyPem = PoolCertificates.Text(secret, TlsSecretKeys.PrivateKey);
        var caPem = PoolCertificates.Text(secret, TlsSecretKeys.CaCertificate);
        if (secret is null || certificatePem is null || keyPem is null || caPem is null)
        {
            return new BuildKitClientOptions { UseTls = true };
        }

        var key = $"{ns}/{secret.Metadata.Name}";
        var version = secret.Metadata.ResourceVersion ?? string.Empty;
        if (_parsed.TryGetValue(key, out var known) && known.Version == version)
        {
            return known.Options;
        }

        try
        {
            var options = new BuildKitClientOptions
            {
                UseTls = true,
                ClientCertificate = X509Certificate2.CreateFromPem(certificatePem, keyPem),
                CertificateAuthorities = Bundle(caPem),
            };
            _parsed[key] = (version, options);
            return options;
        }
        catch (CryptographicException)
        {
            return new BuildKitClientOptions { UseTls = true };
        }
    }

    private static X509Certificate2Collection Bundle(string pem)
    {
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPem(pem);
        return bundle;
    }
}
