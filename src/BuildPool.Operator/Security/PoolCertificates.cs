using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using BuildPool.Runtime.Informers;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Security;

/// <summary>
/// Managed PKI of a pool whose endpoint has TLS, in Secrets the pool owns. Two CAs: the tenant
/// CA signs the gateway's server certificate and every ClientAccess certificate, and only the
/// gateway trusts it; the internal CA signs the builders' server certificate and the one client
/// certificate the gateway and the operator present to builders, and it is all builders trust.
/// A pool from before the internal CA moves to it step by step (<see cref="BuilderTrust"/>).
/// A certificate is issued again when it is missing, unreadable, not signed by its CA, for other
/// names, or past two thirds of its lifetime. A CA itself is only replaced when it is unreadable
/// or past two thirds of its (long) lifetime; that also reissues everything it signed.
/// </summary>
public sealed partial class PoolCertificates(OperatorCaches caches, OperatorOptions options, ILogger logger)
{
    private readonly CertificateSecrets _secrets = new(caches, options, logger);

    /// <summary>On the internal CA Secret: the <see cref="BuilderTrustStep"/> the pool is at.</summary>
    public const string StepAnnotation = "buildpool.dev/builder-trust-step";

    public async Task<PoolTls> EnsureAsync(BuilderPool pool, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var ns = pool.Metadata.NamespaceProperty;
        var name = pool.Metadata.Name;

        var (caSecret, tenantCa) = await EnsureCaAsync(pool, ResourceNames.CaSecret(name), PoolCertificateNames.CaCommonName(pool), now, cancellationToken);
        using (tenantCa)
        {
            // Builders that exist before the internal CA trust the tenant CA: they move over in steps.
            var before = await ReadAsync(ns, ResourceNames.BuilderTlsSecret(name), cancellationToken);
            var (internalSecret, internalCa) = await EnsureCaAsync(pool, ResourceNames.InternalCaSecret(name), PoolCertificateNames.InternalCaCommonName(pool), now, cancellationToken,
                created: before is null ? BuilderTrustStep.Complete : BuilderTrustStep.TrustInternalCa);
            using (internalCa)
            {
                var recorded = StepOf(internalSecret);
                var shape = new BuilderTrustDecision(recorded, Advanced: false, string.Empty);
                var (builder, builderRenew) = await EnsureBuilderAsync(pool, tenantCa, internalCa, shape, now, cancellationToken);
                var decision = BuilderTrust.Decide(new BuilderTrustFacts(
                    recorded,
                    BuildersBehind(ns, name, builder),
                    GatewayOnInternalClient(ns, name)));
                if (decision.Advanced)
                {
                    internalSecret = await RecordStepAsync(internalSecret, decision.Step, cancellationToken);
                    Log.StepAdvanced(logger, decision.Step.ToString(), decision.Message);
                    (builder, builderRenew) = await EnsureBuilderAsync(pool, tenantCa, internalCa, decision, now, cancellationToken);
                }

                var (builderClient, clientRenew) = await EnsureLeafAsync(pool, internalCa, ResourceNames.BuilderClientTlsSecret(name), WellKnown.GatewayComponent,
                    new LeafProfile(PoolCertificateNames.BuilderClient(pool), [], ServerAuth: false, ClientAuth: true),
                    decision.UpstreamTrustsTenantCa ? Bundle(internalCa, tenantCa) : internalCa.CertificatePem, now, cancellationToken);
                // The gateway's server certificate stays with the tenant CA (tenants verify it with
                // the ca.pem they hold). It stays a client certificate while a gateway replica from
                // before the switch may still present it: a restarted container reads the mounted
                // Secret again, and builders would refuse it without clientAuth.
                var (gateway, gatewayRenew) = await EnsureLeafAsync(pool, tenantCa, ResourceNames.GatewayTlsSecret(name), WellKnown.GatewayComponent,
                    new LeafProfile($"{ResourceNames.GatewayService(name)}.{ns}.svc", PoolCertificateNames.Gateway(pool), ServerAuth: true, ClientAuth: decision.Step < BuilderTrustStep.DropTenantCa),
                    tenantCa.CertificatePem, now, cancellationToken);
                var renewAt = new[] { gatewayRenew, builderRenew, clientRenew, CertificateRenewal.RenewAt(tenantCa.Certificate), CertificateRenewal.RenewAt(internalCa.Certificate) }.Min();
                return new PoolTls(caSecret, gateway, builder, renewAt)
                {
                    InternalCa = internalSecret,
                    BuilderClient = builderClient,
                    Trust = decision,
                };
            }
        }
    }

    /// <summary>The Secret the gateway Deployment presents to builders (its <c>gateway-tls</c> volume); null without a gateway.</summary>
    public static string? GatewayUpstreamSecret(k8s.Models.V1Deployment? gateway) =>
        gateway?.Spec?.Template?.Spec?.Volumes?.FirstOrDefault(v => v.Name == UpstreamVolume)?.Secret?.SecretName;

    /// <summary>Name of the gateway's volume with the client certificate it presents to builders.</summary>
    public const string UpstreamVolume = "gateway-tls";

    /// <summary>The pool CA, loaded from its Secret; null while it does not exist yet.</summary>
    public async Task<CertificateAuthority?> LoadCaAsync(string? @namespace, string pool, CancellationToken cancellationToken)
    {
        var secret = await ReadAsync(@namespace, ResourceNames.CaSecret(pool), cancellationToken);
        return CertificateAuthority.TryLoad(Text(secret, TlsSecretKeys.CaCertificate), Text(secret, TlsSecretKeys.CaPrivateKey));
    }

    public static string? Text(V1Secret? secret, string key) => CertificateSecrets.Text(secret, key);

    private async Task<(V1Secret Secret, DateTime RenewAt)> EnsureBuilderAsync(BuilderPool pool, CertificateAuthority tenantCa, CertificateAuthority internalCa, BuilderTrustDecision shape, DateTime now, CancellationToken cancellationToken) =>
        await EnsureLeafAsync(pool, shape.BuilderServerFromInternalCa ? internalCa : tenantCa, ResourceNames.BuilderTlsSecret(pool.Metadata.Name), WellKnown.BuilderComponent,
            new LeafProfile($"{pool.Metadata.Name} builders {pool.Metadata.NamespaceProperty}", PoolCertificateNames.Builders(pool), ServerAuth: true, ClientAuth: false),
            // ca.crt is the builders' [grpc.tls] ca: whose client certificates they take.
            shape.BuildersTrustTenantCa ? Bundle(internalCa, tenantCa) : internalCa.CertificatePem, now, cancellationToken);

    private Task<(V1Secret Secret, DateTime RenewAt)> EnsureLeafAsync(BuilderPool pool, CertificateAuthority issuer, string secretName, string component, LeafProfile profile, string trust, DateTime now, CancellationToken cancellationToken) =>
        _secrets.EnsureLeafAsync(pool, issuer, secretName, Owners.PoolLabels(pool.Metadata.Name, component), profile, trust, now, cancellationToken);

    /// <summary>
    /// The pool CA in <paramref name="secretName"/>, created when missing, unreadable or due;
    /// a created internal CA records <paramref name="created"/> as the pool's step.
    /// </summary>
    private Task<(V1Secret Secret, CertificateAuthority Ca)> EnsureCaAsync(BuilderPool pool, string secretName, string commonName, DateTime now, CancellationToken cancellationToken, BuilderTrustStep? created = null) =>
        _secrets.EnsureCaAsync(pool, secretName, Owners.PoolLabels(pool.Metadata.Name, "ca"), commonName, now, cancellationToken,
            created is { } step ? new Dictionary<string, string>(StringComparer.Ordinal) { [StepAnnotation] = step.ToString() } : null);

    private static BuilderTrustStep StepOf(V1Secret internalCa) =>
        internalCa.Metadata.Annotations?.TryGetValue(StepAnnotation, out var text) == true && Enum.TryParse<BuilderTrustStep>(text, out var step) && Enum.IsDefined(step)
            ? step
            : BuilderTrustStep.Complete;

    private async Task<V1Secret> RecordStepAsync(V1Secret internalCa, BuilderTrustStep step, CancellationToken cancellationToken)
    {
        var updated = ObjectCopy.DeepCopy(internalCa);
        updated.Metadata.Annotations = new Dictionary<string, string>(updated.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal) { [StepAnnotation] = step.ToString() };
        // With the read resourceVersion: two operators never record different steps.
        return await caches.SecretClient.ReplaceAsync(updated, cancellationToken);
    }

    /// <summary>
    /// Builders of the pool still running with another builder certificate Secret than
    /// <paramref name="builderTls"/>: their pod template carries another digest, or a pod from an
    /// older template has not gone yet. A stopped builder is behind no one: it starts with the current files.
    /// </summary>
    private IReadOnlyList<string> BuildersBehind(string? @namespace, string pool, V1Secret builderTls)
    {
        var digest = SecretDigest.Of([builderTls]);
        return caches.Deployments.Cache.ListInNamespace(@namespace ?? string.Empty)
            .Where(d => d.Metadata.Labels?.TryGetValue(WellKnown.PoolLabel, out var p) == true && p == pool
                && d.Metadata.Labels.TryGetValue(WellKnown.ComponentLabel, out var c) && c == WellKnown.BuilderComponent)
            .Where(d => (d.Spec?.Replicas ?? 1) > 0 || (d.Status?.Replicas ?? 0) > 0)
            .Where(d => d.Spec?.Template?.Metadata?.Annotations?.TryGetValue(Bindings.BuilderCredentials.TlsDigestAnnotation, out var had) != true || had != digest
                || (d.Status?.ObservedGeneration ?? 0) < (d.Metadata.Generation ?? 0)
                || (d.Status?.UpdatedReplicas ?? 0) != (d.Status?.Replicas ?? 0))
            .Select(d => d.Metadata.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The gateway Deployment presents the internal CA's client certificate, and no replica from before it did is left.</summary>
    private bool GatewayOnInternalClient(string? @namespace, string pool)
    {
        var gateway = caches.Deployments.Cache.Get(@namespace, ResourceNames.Gateway(pool));
        return gateway is not null
            && GatewayUpstreamSecret(gateway) == ResourceNames.BuilderClientTlsSecret(pool)
            && (gateway.Status?.ObservedGeneration ?? 0) >= (gateway.Metadata.Generation ?? 0)
            && (gateway.Status?.UpdatedReplicas ?? 0) == (gateway.Status?.Replicas ?? 0);
    }

    private static string Bundle(CertificateAuthority first, CertificateAuthority second) =>
        $"{first.CertificatePem.TrimEnd()}\n{second.CertificatePem.TrimEnd()}\n";

    private Task<V1Secret?> ReadAsync(string? @namespace, string name, CancellationToken cancellationToken) =>
        _secrets.ReadAsync(@namespace, name, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Builder trust moved to {Step}: {Message}")]
        public static partial void StepAdvanced(ILogger logger, string step, string message);
    }
}
