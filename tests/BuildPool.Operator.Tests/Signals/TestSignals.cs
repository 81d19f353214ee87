using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Signals;
using k8s.Models;

namespace BuildPool.Operator.Tests.Signals;

/// <summary>Signals as the gateway writes them onto a pool's signal Lease, read back the way the operator reads them.</summary>
internal static class TestSignals
{
    public static V1Lease Lease(string pool, params KeyValuePair<string, string>[] signals) => new()
    {
        Metadata = new V1ObjectMeta { Name = GatewaySignals.LeaseName(pool), NamespaceProperty = "ci", Annotations = signals.ToDictionary(s => s.Key, s => s.Value) },
    };

    /// <summary>Demand signals for <paramref name="keys"/>, written at <paramref name="at"/> for <paramref name="tenant"/>.</summary>
    public static IReadOnlyList<GatewaySignal> Demands(DateTime at, string? tenant, params string[] keys) =>
        keys.Select(k => GatewaySignals.Demand(k, tenant, at)).Select(s => GatewaySignals.Parse(s.Key, s.Value)!).ToList();

    public static VolumeSignals For(string volume, params KeyValuePair<string, string>[] signals) => PoolSignals.Read(Lease("pool", signals)).For(volume);
}
