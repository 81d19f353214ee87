namespace BuildPool.Gateway.Admission;

/// <summary>
/// A running build's slot on a builder. Dispose it when the build ends (its Solve returns or
/// its connection closes); the slot then goes to the longest-waiting build. Disposing more than
/// once is harmless.
/// </summary>
public sealed class AdmissionLease : IDisposable
{
    private BuilderSlots? _slots;
    private IDisposable? _attached;

    internal AdmissionLease(BuilderSlots slots, TimeSpan queueWait)
    {
        _slots = slots;
        BackendId = slots.BackendId;
        QueueWait = queueWait;
    }

    public string BackendId { get; }

    /// <summary>How long the build waited for its slot (zero when one was free).</summary>
    public TimeSpan QueueWait { get; }

    public void Dispose()
    {
        Interlocked.Exchange(ref _slots, null)?.Release();
        // The tenant slot taken before this one goes back after it, so a queued build of the
        // same tenant never finds its tenant slot free while the builder slot is still held.
        Interlocked.Exchange(ref _attached, null)?.Dispose();
    }

    // Another slot (the tenant's) that ends with this one; set once, before the lease is handed out.
    internal void Attach(IDisposable other) => _attached = other;
}
