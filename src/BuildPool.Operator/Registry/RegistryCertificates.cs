using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Security;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Registry;

/// <summary>
/// The PKI of a managed registry, in Secrets its RegistryCacheTarget owns: a registry CA of its
/// own, which signs the registry's server certificate (for every name of its Service) and one
/// client certificate, the only one the registry takes. Builders of the pools that use the target
/// and the operator present that client certificate; nothing a tenant holds chains to this CA.
/// A pool's internal CA cannot serve here: a target serves several pools, and pools without
/// endpoint TLS have none. Rotation is <see cref="CertificateSecrets"/>'s, as for pools.
/// </summary>
public sealed class RegistryCertificates(OperatorCaches caches, OperatorOptions options, ILogger logger)
{
    private readonly CertificateSecrets _secrets = new(caches, options, logger);

    public async Task<RegistryTls> EnsureAsync(RegistryCacheTarget target, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = target.Metadata.Name;
        var ns = target.Metadata.NamespaceProperty;
        var labels = ManagedRegistry.Labels(name);
        var (_, ca) = await _secrets.EnsureCaAsync(target, ManagedRegistry.CaSecret(name), labels, $"BuildPool registry CA {ns}/{name}", now, cancellationToken);
        using (ca)
        {
            var (server, serverRenew) = await _secrets.EnsureLeafAsync(target, ca, ManagedRegistry.TlsSecret(name), labels,
                new LeafProfile($"{ManagedRegistry.Name(name)}.{ns}.svc", ManagedRegistry.DnsNames(target), ServerAuth: true, ClientAuth: false),
                ca.CertificatePem, now, cancellationToken);
            var (client, clientRenew) = await _secrets.EnsureLeafAsync(target, ca, ManagedRegistry.ClientSecret(name), labels,
                new LeafProfile($"BuildPool registry client {ns}/{name}", [], ServerAuth: false, ClientAuth: true),
                ca.CertificatePem, now, cancellationToken);
            return new RegistryTls(server, client, new[] { serverRenew, clientRenew, CertificateRenewal.RenewAt(ca.Certificate) }.Min());
        }
    }
}
