namespace BuildPool.Runtime.Informers;

public sealed class InformerOptions
{
    /// <summary>Name in logs; defaults to the kind.</summary>
    public string? Name { get; init; }

    /// <summary>First wait after a failed list or watch; it doubles on each further failure.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A watch that the server ends cleanly after at least this long (or after delivering events) is
    /// reopened at once; one that ends sooner without events counts as a failure, so that a server
    /// closing watches immediately does not make us spin.
    /// </summary>
    public TimeSpan MinHealthyWatch { get; init; } = TimeSpan.FromSeconds(5);
}
