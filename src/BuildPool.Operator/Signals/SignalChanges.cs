using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Runtime.Controllers;
using k8s.Models;

namespace BuildPool.Operator.Signals;

/// <summary>
/// Pure: which volumes a change of a signal Lease concerns. One Lease carries the signals of
/// every volume of a pool, and a heartbeat changes one of them: reconciling them all on each
/// write would cost a probe of every builder per heartbeat.
/// </summary>
public static class SignalChanges
{
    public static IEnumerable<ReconcileRequest> Volumes(V1Lease? before, V1Lease? after)
    {
        var ns = (after ?? before)?.Metadata.NamespaceProperty;
        var old = before?.Metadata.Annotations ?? new Dictionary<string, string>();
        var now = after?.Metadata.Annotations ?? new Dictionary<string, string>();
        var changed = old.Where(a => !now.TryGetValue(a.Key, out var v) || v != a.Value)
            .Concat(now.Where(a => !old.TryGetValue(a.Key, out var v) || v != a.Value));
        var volumes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in changed)
        {
            if (GatewaySignals.Parse(name, value) is not { Invalid: null, Kind: not GatewaySignalKind.Demand } signal)
            {
                continue;
            }

            volumes.Add(signal.Subject);
            if (signal.Kind == GatewaySignalKind.Isolate && ResourceNames.IsValidForkId(signal.Detail!))
            {
                // The fork serving that build retires when its request goes.
                volumes.Add(ResourceNames.IsolatedFork(signal.Subject, signal.Detail!));
            }
        }

        return volumes.Select(v => new ReconcileRequest(ns, v));
    }
}
