using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Isolation;
using BuildPool.Gateway.Tenants;

namespace BuildPool.Gateway.Builds;

/// <summary>
/// What build routing can do beyond placing builds on ready builders, and whom it keeps apart.
/// Pool mode (Kubernetes discovery) brings a <see cref="Starter"/> and <see cref="Forks"/>;
/// with static backends there are neither, so a stopped builder's builds spill at once, Private
/// volumes queue like Shared ones, and untrusted builds are refused.
/// </summary>
/// <param name="starter">Starts stopped builders on demand (and creates Dedicated volumes).</param>
/// <param name="forks">Asks for overflow forks of Private volumes and isolated forks of untrusted builds.</param>
/// <param name="tenants">Per-tenant admission; null admits on the builder's slots alone.</param>
/// <param name="isolation">Which builds are untrusted; none when null.</param>
public sealed class PoolMode(IBuilderStarter? starter = null, IForkRequester? forks = null, TenantAdmission? tenants = null, IsolationPolicy? isolation = null)
{
    public IBuilderStarter? Starter { get; } = starter;

    public IForkRequester? Forks { get; } = forks;

    public TenantAdmission? Tenants { get; } = tenants;

    public IsolationPolicy Isolation { get; } = isolation ?? new IsolationPolicy();
}
