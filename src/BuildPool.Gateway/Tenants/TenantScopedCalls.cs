using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Prune, DiskUsage, ListenBuildHistory and UpdateBuildHistory act on one builder's whole state:
/// a prune there deletes every tenant's cache on it, and its history lists every build it ran
/// (refs, build arguments). So a tenant's such call reaches only a builder whose volume holds only
/// that tenant's keys (a Dedicated volume of one of its keys, or a volume pinned to its keys
/// alone), and is refused with PERMISSION_DENIED when it has none. A client without a certificate
/// is nobody's tenant: in a pool with tenants these calls are refused for it. Pure.
/// </summary>
public static class TenantScopedCalls
{
    private const string ControlPrefix = "/moby.buildkit.v1.Control/";

    /// <summary>True for the calls this scope governs.</summary>
    public static bool Applies(string path) =>
        path is ControlPrefix + "Prune" or ControlPrefix + "DiskUsage" or ControlPrefix + "ListenBuildHistory" or ControlPrefix + "UpdateBuildHistory";

    /// <summary>
    /// Where <paramref name="path"/> from <paramref name="tenant"/> goes: a ready builder of the
    /// tenant's own volumes (<paramref name="preferred"/>, the connection's last keyed builder,
    /// when it is one; else the first by name), or a refusal with its gRPC status. Neither (both
    /// null): the call is not scoped (static mode, or an anonymous client in a pool without
    /// tenants) and goes to any builder.
    /// </summary>
    public static (Backend? Backend, string? Refusal, int Status) Place(IReadOnlyList<Backend> backends, TenantInfo? tenant, bool poolHasTenants, string? preferred, string path)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentNullException.ThrowIfNull(path);
        var method = path.StartsWith(ControlPrefix, StringComparison.Ordinal) ? path[ControlPrefix.Length..] : path;
        if (tenant is null)
        {
            return poolHasTenants
                ? (null, $"{method} refused: a client without a certificate may not prune or read the state of builders in a pool with tenants (every builder may hold a tenant's cache and history)", GrpcStatusResponse.PermissionDenied)
                : (null, null, 0);
        }

        if (tenant.KeyNamespace is null)
        {
            return (null, null, 0);
        }

        Backend? chosen = null;
        var owned = 0;
        foreach (var backend in backends)
        {
            if (!OwnedBy(backend, tenant))
            {
                continue;
            }

            owned++;
            if (backend.State == BackendState.Ready && (chosen is null || backend.Id == preferred))
            {
                chosen = backend;
            }
        }

        if (chosen is not null)
        {
            return (chosen, null, 0);
        }

        return owned == 0
            ? (null, $"{method} refused for tenant {tenant.AdmissionKey}: no builder holds only this tenant's keys (a Hashed pool's volumes and volumes of shared keys serve other tenants too); prune, disk usage and build history reach only a tenant's own volumes (spec.assignment.mode Dedicated)", GrpcStatusResponse.PermissionDenied)
            : (null, $"{method} for tenant {tenant.AdmissionKey}: none of its {owned} volumes has a running builder; run a build to start one", GrpcStatusResponse.Unavailable);
    }

    /// <summary>A builder (never a fork) whose volume serves only keys of <paramref name="tenant"/>'s own key space.</summary>
    public static bool OwnedBy(Backend backend, TenantInfo tenant)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(tenant);
        if (backend.ForkOf is not null || backend.AcceptsHashedKeys || backend.Keys.Count == 0)
        {
            return false;
        }

        foreach (var key in backend.Keys)
        {
            if (!tenant.Owns(key))
            {
                return false;
            }
        }

        return true;
    }
}
