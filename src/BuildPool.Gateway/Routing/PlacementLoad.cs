namespace BuildPool.Gateway.Routing;

/// <summary>
/// One build counted toward its builder's load for bounded-load placement, from routing until
/// the build ends (its Solve returns or its connection closes). Disposing it more than once is
/// harmless.
/// </summary>
public sealed class PlacementLoad : IDisposable
{
    private BackendLoad? _load;
    private Placement? _placement;

    internal PlacementLoad(Placement placement, BackendLoad load)
    {
        _placement = placement;
        _load = load;
        load.Increment();
        placement.AddTotal(1);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _load, null) is { } load)
        {
            load.Decrement();
            Interlocked.Exchange(ref _placement, null)!.AddTotal(-1);
        }
    }
}
