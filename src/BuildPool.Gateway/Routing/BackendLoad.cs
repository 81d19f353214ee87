namespace BuildPool.Gateway.Routing;

// Builds currently placed on one builder. Lives across snapshots (keyed by id) so a swap never
// forgets running builds.
internal sealed class BackendLoad
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Decrement() => Interlocked.Decrement(ref _value);
}
