namespace BuildPool.TestDoubles;

/// <summary>
/// N fake builders, each its own h2c listener with its own memory (sessions, builds), as N
/// buildkitd daemons behind a gateway would be. The fleet answers routing questions across them:
/// which builders saw the calls of a build, where its Solve ran, how many ran at once on each.
/// </summary>
public sealed class FakeBuilderFleet : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<FakeBuildKitDaemon> _builders;

    private FakeBuilderFleet(List<FakeBuildKitDaemon> builders) => _builders = builders;

    /// <summary>The builders, in start order.</summary>
    public IReadOnlyList<FakeBuildKitDaemon> Builders
    {
        get
        {
            lock (_lock)
            {
                return _builders.ToArray();
            }
        }
    }

    public FakeBuildKitDaemon this[int index] => Builders[index];

    public FakeBuildKitDaemon this[string name] =>
        Builders.FirstOrDefault(b => b.Name == name) ?? throw new KeyNotFoundException($"No fake builder named {name}.");

    /// <summary>The gateway's static discovery arguments: <c>name=tcp://127.0.0.1:port</c> per builder.</summary>
    public IReadOnlyList<string> BackendArguments => Builders.Select(b => $"{b.Name}={b.Address}").ToList();

    /// <summary>Starts <paramref name="count"/> builders named <c>{prefix}0</c> … <c>{prefix}N-1</c>.</summary>
    public static Task<FakeBuilderFleet> StartAsync(int count, string prefix = "builder-", CancellationToken cancellationToken = default) =>
        StartAsync(Enumerable.Range(0, count).Select(i => prefix + i), cancellationToken);

    public static async Task<FakeBuilderFleet> StartAsync(IEnumerable<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        var builders = new List<FakeBuildKitDaemon>();
        try
        {
            foreach (var name in names)
            {
                builders.Add(await FakeBuildKitDaemon.StartAsync("worker-" + name, name, cancellationToken));
            }
        }
        catch
        {
            foreach (var builder in builders)
            {
                await builder.DisposeAsync();
            }

            throw;
        }

        return new FakeBuilderFleet(builders);
    }

    /// <summary>Adds a builder (a scale-out event).</summary>
    public async Task<FakeBuildKitDaemon> AddAsync(string name, CancellationToken cancellationToken = default)
    {
        var builder = await FakeBuildKitDaemon.StartAsync("worker-" + name, name, cancellationToken);
        lock (_lock)
        {
            _builders.Add(builder);
        }

        return builder;
    }

    /// <summary>Stops and removes a builder (scale-in or a crash): its connections close and its sessions are gone.</summary>
    public async Task RemoveAsync(string name)
    {
        var builder = this[name];
        lock (_lock)
        {
            _builders.Remove(builder);
        }

        await builder.DisposeAsync();
    }

    /// <summary>Applies a setting to every builder (e.g. <c>b => b.HoldSolves = true</c>).</summary>
    public void Configure(Action<FakeBuilds> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        foreach (var builder in Builders)
        {
            configure(builder.Builds);
        }
    }

    /// <summary>Every call of one build on every builder: calls naming the ref, and calls of its Solve's session.</summary>
    public IReadOnlyList<FakeBuilderCall> CallsOf(string reference)
    {
        var builders = Builders;
        var sessions = builders.SelectMany(b => b.Builds.Solves).Where(s => s.Ref == reference && s.SessionId.Length > 0).Select(s => s.SessionId).ToList();
        return builders.SelectMany(b => b.Builds.CallsOf(reference, sessions)).OrderBy(c => c.ReceivedAt).ToList();
    }

    /// <summary>The builders that received any call of the build; exactly one when routing kept it together.</summary>
    public IReadOnlySet<string> BuildersOf(string reference) => CallsOf(reference).Select(c => c.Builder).ToHashSet(StringComparer.Ordinal);

    /// <summary>The builder whose memory holds the Solve of <paramref name="reference"/>; null when none received it.</summary>
    public string? SolvedBy(string reference) =>
        Builders.FirstOrDefault(b => b.Builds.Solves.Any(s => s.Ref == reference))?.Name;

    /// <summary>Most concurrent Solves seen per builder.</summary>
    public IReadOnlyDictionary<string, int> MaxConcurrentSolves => Builders.ToDictionary(b => b.Name, b => b.Builds.MaxConcurrentSolves);

    /// <summary>Solves running now per builder.</summary>
    public IReadOnlyDictionary<string, int> RunningSolves => Builders.ToDictionary(b => b.Name, b => b.Builds.RunningSolves);

    /// <summary>Lets every held Solve on every builder finish.</summary>
    public void ReleaseAll() => Configure(b => b.ReleaseAll());

    public async ValueTask DisposeAsync()
    {
        // Stop all at once: each waits briefly for its own streams, and the waits overlap.
        await Task.WhenAll(Builders.Select(b => b.DisposeAsync().AsTask()));
    }
}
