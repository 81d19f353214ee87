namespace BuildPool.Gateway.Builds;

/// <summary>
/// One downstream HTTP/2 connection (buildx keeps one per builder node and runs all calls of a
/// build on it). Remembers the builder of its last keyed build, so a keyless build that follows
/// on the same connection lands beside it; its builds end when it closes.
/// </summary>
public sealed class ClientConnection
{
    internal ClientConnection(string id) => Id = id;

    public string Id { get; }

    // Guarded by the correlator's lock.
    internal string? LastKeyedBackend { get; set; }

    internal List<BuildUnit> Units { get; } = [];

    internal bool Closed { get; set; }
}
