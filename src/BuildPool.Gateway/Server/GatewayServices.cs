using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Isolation;
using BuildPool.Gateway.Tenants;

namespace BuildPool.Gateway.Server;

/// <summary>
/// What a gateway (<see cref="GatewayServer"/>, <see cref="Passthrough.PassthroughServer"/>) is
/// given to work with, beside its settings (<see cref="GatewayOptions"/>, which the flags map
/// onto): the clock, and in pool mode what Kubernetes discovery provides
/// (<see cref="KubernetesDiscovery.Services"/>).
/// </summary>
public sealed record GatewayServices
{
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Starts stopped builders on demand (Kubernetes discovery). Null (static backends): a build
    /// whose builder is stopped goes to the next one on the ring at once.
    /// </summary>
    public IBuilderStarter? BuilderStarter { get; init; }

    /// <summary>
    /// Asks the operator for forks of Private volumes and for isolated forks of untrusted builds
    /// (Kubernetes discovery). Null (static backends): Private volumes queue like Shared ones and
    /// untrusted builds are refused.
    /// </summary>
    public IForkRequester? ForkRequester { get; init; }

    /// <summary>Which client identities are untrusted (<c>--untrusted-identity</c>, or a tenant directory); null: none.</summary>
    public IUntrustedIdentities? UntrustedIdentities { get; init; }

    /// <summary>
    /// Who may build, by client certificate serial (pool mode: the pool's ClientAccess
    /// SecretBindings). Null (static mode): any certificate that chains to
    /// <see cref="GatewayOptions.ClientCaPath"/> may build.
    /// </summary>
    public ITenantDirectory? Tenants { get; init; }
}
