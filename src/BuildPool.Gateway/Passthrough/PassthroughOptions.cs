namespace BuildPool.Gateway.Passthrough;

/// <summary>
/// Settings of <c>buildpool gateway --mode passthrough</c> beyond the shared gateway options
/// (listen address, builders, domain, placement, shutdown timeout).
/// </summary>
public sealed record PassthroughOptions
{
    /// <summary>How long a new connection may take to send its whole ClientHello before it is closed.</summary>
    public TimeSpan HelloTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most bytes read before the ClientHello must be complete; a larger hello closes the connection.</summary>
    public int MaxHelloBytes { get; init; } = TlsClientHelloParser.DefaultMaxHelloBytes;

    /// <summary>How long connecting to the chosen builder may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes each direction of a spliced connection moves per read.</summary>
    public int BufferSize { get; init; } = 64 * 1024;
}
