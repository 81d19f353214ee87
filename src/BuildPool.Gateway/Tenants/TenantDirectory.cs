using System.Collections.Frozen;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// The live tenants by certificate serial: an immutable snapshot, swapped whole on every change,
/// so a lookup on the request path takes no lock and never sees half an update.
/// </summary>
public sealed class TenantDirectory : ITenantDirectory
{
    private readonly TimeProvider _time;
    private Snapshot? _current;

    /// <summary>
    /// A directory that names <paramref name="scope"/> in refusals; empty and not synced until
    /// <see cref="Replace"/>. <paramref name="timeProvider"/> decides when a previous certificate's
    /// <see cref="TenantInfo.AcceptedUntil"/> has passed.
    /// </summary>
    public TenantDirectory(string scope, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        Scope = scope;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public string Scope { get; }

    /// <inheritdoc/>
    public bool IsSynced => Volatile.Read(ref _current) is not null;

    /// <inheritdoc/>
    public IReadOnlyCollection<TenantInfo> Tenants => Volatile.Read(ref _current)?.BySerial.Values ?? [];

    /// <inheritdoc/>
    public event Action<IReadOnlyCollection<TenantInfo>>? Changed;

    /// <inheritdoc/>
    public TenantInfo? Find(string serialNumber)
    {
        var snapshot = Volatile.Read(ref _current);
        if (snapshot is null || !snapshot.BySerial.TryGetValue(CertificateSerial.Normalize(serialNumber), out var tenant))
        {
            return null;
        }

        // Checked on every lookup, not when the directory is filled: the operator clears an expired
        // previous serial from the status, but nothing else changes at that instant to trigger a swap.
        return tenant.AcceptedUntil is { } until && _time.GetUtcNow() >= until ? null : tenant;
    }

    /// <inheritdoc/>
    public TenantInfo? FindByIdentity(string identity)
    {
        var snapshot = Volatile.Read(ref _current);
        return snapshot is not null && snapshot.ByIdentity.TryGetValue(identity, out var tenant) ? tenant : null;
    }

    /// <summary>
    /// Makes <paramref name="tenants"/> the whole directory. Two bindings claiming one serial
    /// cannot both be right; the first (callers pass them sorted) wins.
    /// </summary>
    public void Replace(IEnumerable<TenantInfo> tenants)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        var map = new Dictionary<string, TenantInfo>(StringComparer.Ordinal);
        foreach (var tenant in tenants)
        {
            var serial = CertificateSerial.Normalize(tenant.SerialNumber);
            if (serial.Length > 0)
            {
                map.TryAdd(serial, tenant with { SerialNumber = serial });
            }
        }

        var bySerial = map.ToFrozenDictionary(StringComparer.Ordinal);
        // By identity, the entry of a binding's current certificate, never that of its previous one.
        var byIdentity = new Dictionary<string, TenantInfo>(StringComparer.Ordinal);
        foreach (var tenant in bySerial.Values.OrderBy(t => t.AcceptedUntil is null ? 0 : 1))
        {
            byIdentity.TryAdd(tenant.Identity, tenant);
        }

        Volatile.Write(ref _current, new Snapshot(bySerial, byIdentity.ToFrozenDictionary(StringComparer.Ordinal)));
        Changed?.Invoke(bySerial.Values);
    }

    // Both views swap together: a lookup never pairs a new serial map with an old identity map.
    private sealed record Snapshot(FrozenDictionary<string, TenantInfo> BySerial, FrozenDictionary<string, TenantInfo> ByIdentity);
}
