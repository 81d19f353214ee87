namespace BuildPool.Gateway.Admission;

/// <summary>
/// A running build's slot on a builder. Dispose it when the build ends (its Solve returns or
/// its connection closes); the slot then goes to the longest-waiting build. Disposing more than
/// once is harmless.
/// </summary>
public sealed class AdmissionLease : IDisposable
{
    private BuilderSlots? _slots;

    internal AdmissionLease(BuilderSlots slots, TimeSpan queueWait)
    {
        _slots = slots;
        BackendId = slots.BackendId;
        QueueWait = queueWait;
    }

    public string BackendId { get; }

    /// <summary>How long the build waited for its slot (zero when one was free).</summary>
    public TimeSpan QueueWait { get; }

    public void Dispose() => Interlocked.Exchange(ref _slots, null)?.Release();
}
