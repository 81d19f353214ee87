using System.Text;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Security;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Controllers;
using BuildPool.Runtime.Informers;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Bindings;

/// <summary>
/// SecretBinding. ClientAccess: issues a client certificate signed by the pool CA into a Secret
/// in the tenant's namespace, renews it after two thirds of its validity (the replaced certificate
/// stays in the status as the previous one, which the gateway accepts until it expires), and
/// deletes it when the binding goes (the gateway, which watches bindings, refuses both
/// certificates from then on).
/// The other kinds are applied by the pool and volume reconcilers; here they get a status that
/// says whether the Secrets they name exist.
/// </summary>
public sealed partial class SecretBindingReconciler(OperatorCaches caches, OperatorOptions options, TimeProvider time, EventRecorder events, ILogger<SecretBindingReconciler> logger)
    : IReconciler<SecretBinding>
{
    private readonly PoolCertificates _certificates = new(caches, options, logger);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        var cached = caches.Bindings.Cache.Get(request.Namespace, request.Name);
        if (cached is null)
        {
            return ReconcileResult.Done;
        }

        var binding = ObjectCopy.DeepCopy(cached);
        var ns = binding.Metadata.NamespaceProperty;
        var now = StatusClock.Now(time);
        if (binding.Metadata.DeletionTimestamp is not null)
        {
            await RevokeAsync(binding, cancellationToken);
            return ReconcileResult.Done;
        }

        if (binding.Spec.Kind == SecretBindingKind.ClientAccess)
        {
            binding = await caches.SecretBindingClient.AddFinalizerAsync(binding, BindingLabels.Finalizer, cancellationToken);
        }

        var pool = caches.Pools.Cache.Get(ns, binding.Spec.Pool);
        if (pool is null)
        {
            await WriteStatusAsync(cached, binding, Outcome.Stalled("PoolNotFound", $"spec.pool: BuilderPool \"{binding.Spec.Pool}\" not found in namespace {ns}"), now, cancellationToken);
            // The pool watch brings the binding back when the pool appears.
            return ReconcileResult.Done;
        }

        if (binding.Spec.Kind == SecretBindingKind.ClientAccess)
        {
            return await IssueAsync(cached, binding, pool, now, cancellationToken);
        }

        await caches.SecretReader.LoadAsync(ns, BuilderCredentialsPlanner.ReferencedSecrets(binding.Spec).Select(r => r.Secret), cancellationToken);
        var missing = new List<string>();
        foreach (var (field, secret) in BuilderCredentialsPlanner.ReferencedSecrets(binding.Spec))
        {
            if (caches.SecretReader.Cached(ns, secret) is null)
            {
                missing.Add($"{field}: Secret \"{secret}\" not found in namespace {ns}");
            }
        }

        var outcome = missing.Count > 0
            ? Outcome.Stalled("MissingSecret", string.Join("; ", missing))
            : binding.Spec.Kind switch
            {
                SecretBindingKind.EndpointTls when pool.Spec.Endpoint.Tls.Mode == TlsMode.Disabled =>
                    Outcome.Stalled("EndpointTlsDisabled", $"BuilderPool {pool.Metadata.Name}: spec.endpoint.tls.mode is Disabled; an EndpointTLS binding needs Managed or FromSecret"),
                SecretBindingKind.EndpointTls => Outcome.Ready("Bound", $"the endpoint of BuilderPool {pool.Metadata.Name} serves the certificate of this binding"),
                _ => Outcome.Ready("Bound", $"the builders of BuilderPool {pool.Metadata.Name} get the Secret; rotating it restarts them one at a time through drain"),
            };
        await WriteStatusAsync(cached, binding, outcome, now, cancellationToken);
        return missing.Count > 0 ? ReconcileResult.After(TimeSpan.FromSeconds(30)) : ReconcileResult.Done;
    }

    private async Task<ReconcileResult> IssueAsync(SecretBinding cached, SecretBinding binding, BuilderPool pool, DateTime now, CancellationToken cancellationToken)
    {
        var ns = binding.Metadata.NamespaceProperty;
        if (binding.Spec.ClientAccess is not { } access)
        {
            await WriteStatusAsync(cached, binding, Outcome.Stalled("InvalidSpec", "spec.clientAccess: required when spec.kind is ClientAccess"), now, cancellationToken);
            return ReconcileResult.Done;
        }

        if (!GoDuration.TryParse(access.Validity, out var validity, out var reason) || validity < TimeSpan.FromMinutes(10))
        {
            await WriteStatusAsync(cached, binding, Outcome.Stalled("InvalidSpec", $"spec.clientAccess.validity: {reason ?? "must be at least 10m"}"), now, cancellationToken);
            return ReconcileResult.Done;
        }

        if (pool.Spec.Endpoint.Tls.Mode == TlsMode.Disabled)
        {
            await WriteStatusAsync(cached, binding, Outcome.Stalled("EndpointTlsDisabled",
                $"BuilderPool {pool.Metadata.Name}: spec.endpoint.tls.mode is Disabled, so the endpoint takes no client certificates; set it to Managed or FromSecret"),
                now, cancellationToken, issued: null);
            return ReconcileResult.Done;
        }

        using var ca = await _certificates.LoadCaAsync(ns, pool.Metadata.Name, cancellationToken);
        if (ca is null)
        {
            await WriteStatusAsync(cached, binding, Outcome.Progressing("WaitingForPoolCa",
                $"waiting for Secret {ResourceNames.CaSecret(pool.Metadata.Name)}, the CA of BuilderPool {pool.Metadata.Name}"), now, cancellationToken);
            return ReconcileResult.After(TimeSpan.FromSeconds(5));
        }

        var target = $"{access.TargetNamespace}/{access.SecretName}";
        if (binding.Status.IssuedSecret is { Length: > 0 } previous && previous != target)
        {
            // The binding now names another Secret: the old one must not keep working.
            await DeleteIssuedAsync(binding, previous, cancellationToken);
        }

        var existing = await ReadAsync(access.TargetNamespace, access.SecretName, cancellationToken);
        if (existing is not null && !IssuedFor(existing, binding))
        {
            await WriteStatusAsync(cached, binding, Outcome.Stalled("SecretConflict",
                $"spec.clientAccess.secretName: Secret {target} already exists and was not issued for this binding"), now, cancellationToken, issued: null);
            return ReconcileResult.Done;
        }

        var commonName = PoolCertificateNames.Client(access.TargetNamespace, binding.Metadata.Name);
        var serverCa = ServerCa(pool, ca);
        var current = CertificateSecrets.Current(existing, TlsSecretKeys.ClientCertificate, TlsSecretKeys.ClientKey, ca, dnsNames: null, commonName, now);
        Issued issued;
        if (current is not null && PoolCertificates.Text(existing, TlsSecretKeys.ClientCa) == serverCa)
        {
            issued = new Issued(target, current.SerialNumber, current.NotBefore.ToUniversalTime(), current.NotAfter.ToUniversalTime());
            current.Dispose();
        }
        else
        {
            current?.Dispose();
            var certificate = ca.Issue(new LeafProfile(commonName, [], ServerAuth: false, ClientAuth: true), now, validity);
            var desired = new V1Secret
            {
                ApiVersion = "v1",
                Kind = "Secret",
                Metadata = new V1ObjectMeta
                {
                    Name = access.SecretName,
                    NamespaceProperty = access.TargetNamespace,
                    Labels = new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
                        [WellKnown.PoolLabel] = pool.Metadata.Name,
                        [BindingLabels.Binding] = binding.Metadata.Name,
                        [BindingLabels.BindingNamespace] = ns!,
                    },
                },
                Type = TlsSecretKeys.OpaqueType,
                Data = new Dictionary<string, byte[]>(StringComparer.Ordinal)
                {
                    [TlsSecretKeys.ClientCa] = Encoding.UTF8.GetBytes(serverCa),
                    [TlsSecretKeys.ClientCertificate] = Encoding.UTF8.GetBytes(certificate.CertificatePem),
                    [TlsSecretKeys.ClientKey] = Encoding.UTF8.GetBytes(certificate.PrivateKeyPem),
                },
            };
            try
            {
                if (existing is null)
                {
                    await caches.SecretClient.CreateAsync(desired, cancellationToken);
                }
                else
                {
                    desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                    await caches.SecretClient.ReplaceAsync(desired, cancellationToken);
                }
            }
            catch (NotFoundException)
            {
                await WriteStatusAsync(cached, binding, Outcome.Stalled("TargetNamespaceNotFound",
                    $"spec.clientAccess.targetNamespace: namespace \"{access.TargetNamespace}\" not found"), now, cancellationToken, issued: null);
                return ReconcileResult.After(TimeSpan.FromSeconds(30));
            }

            Log.Issued(logger, target, certificate.SerialNumber, certificate.NotAfter, existing is null ? "new" : "renewed");
            // Renewals too: the tenant's CI must pick up the new certificate before the old one expires.
            await events.RecordAsync(binding, "Normal", "CertificateIssued",
                $"client certificate {certificate.SerialNumber} for {commonName} written to Secret {target} ({(existing is null ? "new" : "renewed")}), valid until {certificate.NotAfter:yyyy-MM-ddTHH:mm:ssZ}", cancellationToken);
            issued = new Issued(target, certificate.SerialNumber, certificate.NotBefore, certificate.NotAfter);
        }

        // The certificate this one replaced stays valid until it expires; the gateway keeps taking it
        // until then (status.previousCertificate*), and the next reconcile at that time clears it.
        issued = issued with { Previous = ClientCertificateGrace.Previous(cached.Status, target, issued.SerialNumber, now) };
        var renewAt = CertificateRenewal.RenewAt(issued.NotBefore, issued.NotAfter);
        await WriteStatusAsync(cached, binding, Outcome.Ready("Issued",
            $"client certificate {issued.SerialNumber} for {commonName} in Secret {target}, renewed after {renewAt:yyyy-MM-ddTHH:mm:ssZ}"),
            now, cancellationToken, issued, ClientAccessCommand.For(pool));
        var next = CertificateRenewal.Until(renewAt, now);
        if (issued.Previous is { } replaced && CertificateRenewal.Until(replaced.NotAfter, now) < next)
        {
            next = CertificateRenewal.Until(replaced.NotAfter, now);
        }

        return ReconcileResult.After(next);
    }

    /// <summary>
    /// The CA a client must trust for the endpoint's server certificate: the pool CA for Managed,
    /// the ca.crt that came with a FromSecret (or EndpointTLS) certificate when there is one.
    /// </summary>
    private string ServerCa(BuilderPool pool, CertificateAuthority ca)
    {
        var endpointBinding = caches.BindingsOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name)
            .Where(b => b.Spec.Kind == SecretBindingKind.EndpointTls && b.Spec.EndpointTls is not null)
            .OrderBy(b => b.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        var server = GatewayTls.For(pool, endpointBinding?.Spec.EndpointTls, digest: null)?.ServerSecret;
        if (server is null || server == ResourceNames.GatewayTlsSecret(pool.Metadata.Name))
        {
            return ca.CertificatePem;
        }

        var secret = caches.SecretReader.Cached(pool.Metadata.NamespaceProperty, server);
        return PoolCertificates.Text(secret, TlsSecretKeys.CaCertificate) is { Length: > 0 } bundle ? bundle : ca.CertificatePem;
    }

    private async Task RevokeAsync(SecretBinding binding, CancellationToken cancellationToken)
    {
        if (!Finalizers.Has(binding, BindingLabels.Finalizer))
        {
            return;
        }

        var issued = binding.Status.IssuedSecret is { Length: > 0 } recorded
            ? recorded
            : binding.Spec.ClientAccess is { } access ? $"{access.TargetNamespace}/{access.SecretName}" : null;
        if (issued is not null)
        {
            await DeleteIssuedAsync(binding, issued, cancellationToken);
        }

        await caches.SecretBindingClient.RemoveFinalizerAsync(binding, BindingLabels.Finalizer, cancellationToken);
    }

    private async Task DeleteIssuedAsync(SecretBinding binding, string namespacedName, CancellationToken cancellationToken)
    {
        var parts = namespacedName.Split('/', 2);
        if (parts.Length != 2)
        {
            return;
        }

        var secret = await ReadAsync(parts[0], parts[1], cancellationToken);
        // Only a Secret this binding issued: never delete something a person put under that name.
        if (secret is not null && IssuedFor(secret, binding))
        {
            await caches.SecretClient.DeleteAsync(parts[0], parts[1], cancellationToken);
            Log.Revoked(logger, namespacedName, binding.Metadata.Name);
            await events.RecordAsync(binding, "Normal", "CertificateRevoked", $"deleted the client certificate Secret {namespacedName}; the gateway no longer accepts its certificate", cancellationToken);
        }
    }

    private static bool IssuedFor(V1Secret secret, SecretBinding binding) =>
        secret.Metadata.Labels is { } labels
        && labels.TryGetValue(BindingLabels.Binding, out var name) && name == binding.Metadata.Name
        && labels.TryGetValue(BindingLabels.BindingNamespace, out var ns) && ns == binding.Metadata.NamespaceProperty;

    // The issued Secret lives in the tenant's namespace, which the operator may not watch.
    private Task<V1Secret?> ReadAsync(string? @namespace, string name, CancellationToken cancellationToken) =>
        caches.SecretReader.ReadThroughAsync(@namespace, name, cancellationToken);

    private sealed record Issued(string Secret, string SerialNumber, DateTime NotBefore, DateTime NotAfter)
    {
        /// <summary>The replaced certificate the gateway still accepts, until its notAfter.</summary>
        public (string SerialNumber, DateTime NotAfter)? Previous { get; init; }
    }

    private async Task WriteStatusAsync(SecretBinding cached, SecretBinding binding, Outcome outcome, DateTime now, CancellationToken cancellationToken, Issued? issued = null, string? buildxCommand = null)
    {
        var status = new SecretBindingStatus
        {
            ObservedGeneration = binding.Metadata.Generation,
            Conditions = Conditions.Copy(cached.Status.Conditions),
        };
        if (binding.Spec.Kind == SecretBindingKind.ClientAccess)
        {
            // A Stalled or waiting binding keeps showing what it issued before, until it issues again.
            var keep = outcome.State != OutcomeState.Stalled || outcome.Reason is "PoolNotFound" or "WaitingForPoolCa";
            status.IssuedSecret = issued?.Secret ?? (keep ? cached.Status.IssuedSecret : null);
            status.CertificateSerialNumber = issued?.SerialNumber ?? (keep ? cached.Status.CertificateSerialNumber : null);
            status.CertificateNotAfter = issued is not null ? StatusClock.Truncate(issued.NotAfter) : keep ? cached.Status.CertificateNotAfter : null;
            status.BuildxCommand = buildxCommand ?? (keep ? cached.Status.BuildxCommand : null);
            // A binding that stops issuing (Stalled) stops granting its previous certificate too; one
            // that only waits keeps it while it is valid.
            var previous = issued is not null ? issued.Previous : keep ? ClientCertificateGrace.StillValid(cached.Status, now) : null;
            status.PreviousCertificateSerialNumber = previous?.SerialNumber;
            status.PreviousCertificateNotAfter = previous is { } p ? StatusClock.Truncate(p.NotAfter) : null;
        }

        Conditions.SetOutcome(status.Conditions, outcome, binding.Metadata.Generation, now);
        if (StatusComparer.Same(cached.Status, status))
        {
            return;
        }

        binding.Status = status;
        await caches.SecretBindingClient.ReplaceStatusAsync(binding, cancellationToken);
        await events.RecordTransitionAsync(binding, cached.Status.Conditions, outcome, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Issued client certificate {Serial} into Secret {Secret} ({Why}), valid until {NotAfter:O}")]
        public static partial void Issued(ILogger logger, string secret, string serial, DateTime notAfter, string why);

        [LoggerMessage(Level = LogLevel.Information, Message = "Deleted client certificate Secret {Secret} of SecretBinding {Binding}")]
        public static partial void Revoked(ILogger logger, string secret, string binding);
    }
}
