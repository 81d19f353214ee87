namespace BuildPool.Gateway.Tenants;

/// <summary>What <see cref="TenantGate"/> decided for one call.</summary>
/// <param name="Tenant">The caller's tenant; null for an anonymous caller (no client certificate, allowed) or a refused one.</param>
/// <param name="Refusal">Null when the call may go on; else the metric reason (<c>unbound_certificate</c>, <c>tenants_not_synced</c>).</param>
/// <param name="GrpcStatus">The status a refused call gets.</param>
/// <param name="Message">The grpc-message of a refused call.</param>
public readonly record struct TenantVerdict(TenantInfo? Tenant, string? Refusal, int GrpcStatus, string? Message)
{
    /// <summary>True when the call may go on.</summary>
    public bool Allowed => Refusal is null;
}
