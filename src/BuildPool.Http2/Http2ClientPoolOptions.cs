using System.Net;

namespace BuildPool.Http2;

/// <summary>How <see cref="Http2ClientPool"/> reaches backends.</summary>
public sealed class Http2ClientPoolOptions
{
    /// <summary>
    /// Connections kept per backend. A new one opens only when every existing one is at the
    /// peer's SETTINGS_MAX_CONCURRENT_STREAMS; beyond this count, streams queue.
    /// </summary>
    public int MaxConnectionsPerBackend { get; set; } = 4;

    public Http2ClientConnectionOptions Connection { get; set; } = new();

    /// <summary>Null for cleartext HTTP/2 (h2c), as buildkitd serves on <c>tcp://</c> without TLS flags.</summary>
    public Http2TlsOptions? Tls { get; set; }

    /// <summary>Replaces the TCP/TLS connect, e.g. for Unix sockets or tests.</summary>
    public Func<DnsEndPoint, CancellationToken, Task<Stream>>? ConnectCallback { get; set; }

    /// <summary>
    /// Where to open the socket for a backend's name (null from it: the usual DNS lookup); TLS
    /// still verifies the name. <c>buildpool dev</c> resolves Service names to loopback here.
    /// </summary>
    public Func<DnsEndPoint, EndPoint?>? Resolve { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a stream may wait for a slot when every connection to a backend is at the
    /// backend's SETTINGS_MAX_CONCURRENT_STREAMS and no more connections may open. BuildKit allows
    /// far more streams than that ever needs; a builder that lowers its limit and holds its
    /// streams open must fail the calls it keeps waiting, not hold them for as long as it likes.
    /// </summary>
    public TimeSpan StreamSlotTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A copy to change some settings of.</summary>
    public Http2ClientPoolOptions Clone() => (Http2ClientPoolOptions)MemberwiseClone();

    /// <summary>The <c>:scheme</c> requests to these backends carry.</summary>
    public string Scheme => Tls is null ? "http" : "https";
}
