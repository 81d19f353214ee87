using System.Collections.Frozen;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// The live tenants by certificate serial: an immutable snapshot, swapped whole on every change,
/// so a lookup on the request path takes no lock and never sees half an update.
/// </summary>
public sealed class TenantDirectory : ITenantDirectory
{
    private FrozenDictionary<string, TenantInfo>? _bySerial;

    /// <summary>A directory that names <paramref name="scope"/> in refusals; empty and not synced until <see cref="Replace"/>.</summary>
    public TenantDirectory(string scope)
    {
        ArgumentException.ThrowIfNullOrEmpty(scope);
        Scope = scope;
    }

    /// <inheritdoc/>
    public string Scope { get; }

    /// <inheritdoc/>
    public bool IsSynced => Volatile.Read(ref _bySerial) is not null;

    /// <summary>The tenants now, in no particular order.</summary>
    public IReadOnlyCollection<TenantInfo> Tenants => Volatile.Read(ref _bySerial)?.Values ?? [];

    /// <summary>Raised after each swap, with the new tenants (admission picks up changed limits).</summary>
    public event Action<IReadOnlyCollection<TenantInfo>>? Changed;

    /// <inheritdoc/>
    public TenantInfo? Find(string serialNumber)
    {
        var snapshot = Volatile.Read(ref _bySerial);
        return snapshot is not null && snapshot.TryGetValue(CertificateSerial.Normalize(serialNumber), out var tenant) ? tenant : null;
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

        var snapshot = map.ToFrozenDictionary(StringComparer.Ordinal);
        Volatile.Write(ref _bySerial, snapshot);
        Changed?.Invoke(snapshot.Values);
    }
}
