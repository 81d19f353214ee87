using BuildPool.Api.Units;
using BuildPool.Gateway.Admission;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// A build waited <c>queueTimeout</c> for one of its tenant's slots and got none. The server maps
/// it to gRPC <c>RESOURCE_EXHAUSTED</c>; the message names the tenant, its limit and the wait.
/// </summary>
public sealed class TenantAtCapacityException : Exception
{
    public TenantAtCapacityException()
        : base("tenant is at its build limit")
    {
        Tenant = string.Empty;
    }

    public TenantAtCapacityException(string message)
        : base(message)
    {
        Tenant = string.Empty;
    }

    public TenantAtCapacityException(string message, Exception innerException)
        : base(message, innerException)
    {
        Tenant = string.Empty;
    }

    public TenantAtCapacityException(TenantInfo tenant, int limit, TimeSpan waited)
        : base(MessageFor(tenant, limit, waited))
    {
        ArgumentNullException.ThrowIfNull(tenant);
        Tenant = tenant.Identity;
        Limit = limit;
        Waited = waited;
    }

    /// <summary>The tenant identity.</summary>
    public string Tenant { get; }

    /// <summary>Its <c>maxConcurrentBuilds</c>.</summary>
    public int Limit { get; }

    /// <summary>How long the build waited.</summary>
    public TimeSpan Waited { get; }

    private static string MessageFor(TenantInfo tenant, int limit, TimeSpan waited)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var source = tenant.Binding is { } binding ? $"maxConcurrentBuilds of SecretBinding {binding}" : "maxConcurrentBuilds";
        return $"tenant {tenant.Identity} is at its limit of {limit} running {(limit == 1 ? "build" : "builds")} ({source}); waited {GoDuration.Format(waited)} in queue";
    }
}
