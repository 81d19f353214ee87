using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Operator.Security;
using k8s.Models;

namespace BuildPool.Operator.Registry;

/// <summary>
/// How the operator's registry client connects: to a managed registry with the registry's client
/// certificate, trusting only the registry CA (and the Service name, checked against the server
/// certificate); to any other registry as the system does.
/// </summary>
public static class RegistryTransport
{
    /// <param name="client">The managed registry's client Secret (tls.crt, tls.key, ca.crt); null for any other registry.</param>
    /// <param name="resolve">Where a cluster host name really is (tests and <c>buildpool dev</c>); null resolves by DNS.</param>
    public static SocketsHttpHandler Create(V1Secret? client, Func<DnsEndPoint, EndPoint?>? resolve = null)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (client is not null)
        {
            handler.SslOptions = ClientAuthentication(client);
        }

        if (resolve is not null)
        {
            handler.ConnectCallback = BuildKit.Client.ServiceConnect.Callback(resolve);
        }

        return handler;
    }

    /// <summary>The client certificate of <paramref name="client"/>, and its ca.crt as the only root; a Secret that cannot be read presents nothing (and the registry refuses).</summary>
    public static SslClientAuthenticationOptions ClientAuthentication(V1Secret client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var options = new SslClientAuthenticationOptions();
        var roots = new X509Certificate2Collection();
        try
        {
            if (CertificateSecrets.Text(client, TlsSecretKeys.CaCertificate) is { } ca)
            {
                roots.ImportFromPem(ca);
            }

            if (CertificateSecrets.Text(client, TlsSecretKeys.Certificate) is { } certificate && CertificateSecrets.Text(client, TlsSecretKeys.PrivateKey) is { } key)
            {
                options.ClientCertificates = [X509Certificate2.CreateFromPem(certificate, key)];
            }
        }
        catch (CryptographicException)
        {
            options.ClientCertificates = null;
        }

        options.CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        options.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        return options;
    }
}
