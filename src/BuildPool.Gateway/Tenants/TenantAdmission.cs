using BuildPool.Gateway.Admission;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Per-tenant limits (<c>spec.clientAccess.maxConcurrentBuilds</c>): a tenant with a limit has at
/// most that many running builds at once, the rest wait first come, first served for up to
/// <c>queueTimeout</c>. Counted per gateway replica: with N replicas a tenant can run up to N
/// times its limit across the pool (replicas share no state; buildx keeps a builder's calls on
/// one connection, so one client's builds usually go through one replica).
/// </summary>
/// <remarks>
/// A build takes its tenant slot first and only then queues for a builder slot, so a tenant at
/// its limit never holds builder slots that other tenants' builds wait for; both slots go back
/// together when the build ends or its connection closes. The slots reuse <see cref="AdmissionController"/>,
/// keyed by the tenant's binding instead of a builder.
/// </remarks>
public sealed class TenantAdmission
{
    private readonly AdmissionController _slots;

    public TenantAdmission(TimeSpan queueTimeout, TimeProvider timeProvider)
    {
        _slots = new AdmissionController(new AdmissionOptions { QueueTimeout = queueTimeout, DefaultMaxConcurrentBuilds = int.MaxValue }, timeProvider);
    }

    /// <summary>Builds waiting for a tenant slot, over all tenants.</summary>
    public long TotalQueued => _slots.TotalQueued;

    /// <summary>Running and queued builds of <paramref name="tenant"/> (capacity int.MaxValue when it has no limit).</summary>
    public AdmissionCounts GetCounts(TenantInfo tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return _slots.GetCounts(tenant.AdmissionKey);
    }

    /// <summary>Applies changed limits at once: a raised (or removed) limit admits queued builds.</summary>
    public void Update(IEnumerable<TenantInfo> tenants)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        foreach (var tenant in tenants)
        {
            _slots.SetCapacity(tenant.AdmissionKey, tenant.MaxConcurrentBuilds ?? int.MaxValue);
        }
    }

    /// <summary>
    /// Takes <paramref name="tenant"/>'s slot (when it has a limit), then the builder slot from
    /// <paramref name="builderSlot"/>; the returned lease gives both back. Throws
    /// <see cref="TenantAtCapacityException"/> after the queue timeout for the tenant slot, and
    /// whatever <paramref name="builderSlot"/> throws (its own timeout, cancellation).
    /// </summary>
    public async Task<AdmissionLease> AdmitAsync(TenantInfo? tenant, Func<CancellationToken, ValueTask<AdmissionLease>> builderSlot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(builderSlot);
        if (tenant?.MaxConcurrentBuilds is not { } limit)
        {
            return await builderSlot(cancellationToken).ConfigureAwait(false);
        }

        _slots.SetCapacity(tenant.AdmissionKey, limit);
        AdmissionLease tenantSlot;
        try
        {
            tenantSlot = await _slots.AcquireAsync(tenant.AdmissionKey, cancellationToken).ConfigureAwait(false);
        }
        catch (BuilderAtCapacityException ex)
        {
            throw new TenantAtCapacityException(tenant, limit, ex.Waited);
        }

        try
        {
            var lease = await builderSlot(cancellationToken).ConfigureAwait(false);
            lease.Attach(tenantSlot);
            return lease;
        }
        catch
        {
            tenantSlot.Dispose();
            throw;
        }
    }
}
