using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Diagnosis;

/// <summary>
/// Reads what <see cref="StartDiagnosis"/> needs, live and only for a Deployment that should run
/// and has no ready pod: its pods (by the Deployment's selector) and, while its claim is Pending,
/// the claim's Events. Pods and Events are not cached: only the few Deployments that are not
/// ready cost a read, on the polls that wait for them anyway. A read that fails leaves the
/// diagnosis to what the caches show; it never fails the reconcile.
/// </summary>
public sealed partial class StartReader(ResourceClient<V1Pod> pods, ResourceClient<Corev1Event> events, ILogger logger)
{
    /// <summary>True when a Deployment asks for pods and none is ready: only then is there a cause to find.</summary>
    public static bool NotStarting(V1Deployment? deployment) =>
        deployment is null || (deployment.Spec?.Replicas ?? 1) == 0 || (deployment.Status?.ReadyReplicas ?? 0) > 0;

    public async Task<StartObservation> ReadAsync(V1Deployment? deployment, V1PersistentVolumeClaim? claim, CancellationToken cancellationToken)
    {
        if (NotStarting(deployment))
        {
            return StartObservation.None;
        }

        var ns = deployment!.Metadata.NamespaceProperty;
        try
        {
            var selector = deployment.Spec?.Selector?.MatchLabels is { Count: > 0 } labels
                ? string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"))
                : null;
            var found = selector is null ? [] : await pods.ListAsync(ns, selector, cancellationToken);
            var claimEvents = claim?.Status?.Phase == "Pending"
                ? await events.ListAsync(ns, labelSelector: null, $"involvedObject.kind=PersistentVolumeClaim,involvedObject.name={claim.Metadata.Name}", cancellationToken)
                : [];
            return new StartObservation { Pods = found, Claim = claim, ClaimEvents = claimEvents };
        }
        catch (KubernetesApiException ex)
        {
            Log.ReadFailed(logger, deployment.Metadata.Name, ex.Message);
            return new StartObservation { Claim = claim };
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the pods or claim Events of {Deployment} to say why it does not start: {Error}")]
        public static partial void ReadFailed(ILogger logger, string deployment, string error);
    }
}
