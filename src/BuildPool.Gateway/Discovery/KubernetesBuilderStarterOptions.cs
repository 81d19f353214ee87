namespace BuildPool.Gateway.Discovery;

/// <summary>How often the gateway may write each annotation (docs/lifecycle.md).</summary>
public sealed record KubernetesBuilderStarterOptions
{
    /// <summary>At most one <c>buildpool.dev/demand</c> write per volume (and one pool demand per key) this often.</summary>
    public TimeSpan DemandInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>At most one <c>buildpool.dev/last-used</c> write per volume this often.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMinutes(1);
}
