using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// What discovery keeps up to date: the gRPC gateway (<see cref="Server.GatewayServer"/>) and the
/// SNI passthrough gateway (<see cref="Passthrough.PassthroughServer"/>) alike.
/// </summary>
public interface IBackendTarget
{
    /// <summary>Where the target places builds; discovery reads loads from it.</summary>
    Placement Placement { get; }

    /// <summary>Which builds are untrusted; discovery swaps in the pool's <c>spec.routing.untrustedKeys</c>.</summary>
    Isolation.IsolationPolicy Isolation { get; }

    /// <summary>Replaces the builder set; running builds finish where they are.</summary>
    void SetBackends(IEnumerable<StaticBackend> backends);
}
