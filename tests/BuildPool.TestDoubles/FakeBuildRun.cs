using BuildPool.BuildKit.Protocol;

namespace BuildPool.TestDoubles;

/// <summary>
/// One build ref on one fake builder: created by whichever of Status, Solve or a test's Release
/// comes first (Status usually precedes Solve), and holding the Status updates so a late or
/// second Status reader replays them.
/// </summary>
internal sealed class FakeBuildRun(string reference)
{
    private readonly Lock _lock = new();
    private readonly List<StatusResponse> _updates = [];
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _finished;

    public string Ref { get; } = reference;

    public AsyncSignal Changed { get; } = new();

    /// <summary>Set when a Solve for this ref arrived here, whether or not it then ran.</summary>
    public bool SolveArrived { get; set; }

    public Task Released => _released.Task;

    public void Release() => _released.TrySetResult();

    public void Publish(StatusResponse update)
    {
        lock (_lock)
        {
            _updates.Add(update);
        }

        Changed.Pulse();
    }

    public void Finish()
    {
        lock (_lock)
        {
            _finished = true;
        }

        Changed.Pulse();
    }

    /// <summary>Updates from <paramref name="from"/> on, and whether the Solve has ended.</summary>
    public (List<StatusResponse> Updates, bool Finished) Read(int from)
    {
        lock (_lock)
        {
            return (_updates.Skip(from).ToList(), _finished);
        }
    }
}
