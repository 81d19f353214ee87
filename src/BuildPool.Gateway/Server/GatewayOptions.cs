using System.Net;
using BuildPool.Gateway.Builds;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Routing;
using BuildPool.Http2;

namespace BuildPool.Gateway.Server;

/// <summary>
/// The settings of <see cref="GatewayServer"/>: the <c>buildpool gateway</c> flags map onto them
/// one to one. The services it works with (clock, builder starter, forks, tenants) are apart, in
/// <see cref="GatewayServices"/>.
/// </summary>
public sealed record GatewayOptions
{
    /// <summary>Where builds connect (<c>--listen</c>); port 0 picks a free port.</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Any, 1234);

    /// <summary>Static builders (<c>--backend</c>), one per cache volume.</summary>
    public IReadOnlyList<StaticBackend> Backends { get; init; } = [];

    /// <summary>Key sources in order (<c>--routing-key-sources</c>).</summary>
    public IReadOnlyList<RoutingKeySource> KeySources { get; init; } = KeyExtractor.DefaultSources;

    /// <summary>Domain whose first label under it is an authority/SNI key (<c>--domain</c>).</summary>
    public string? Domain { get; init; }

    /// <summary>Hashed (consistent hashing) or Dedicated (one volume per key); from the pool's <c>spec.assignment.mode</c>.</summary>
    public AssignmentMode Mode { get; init; } = AssignmentMode.Hashed;

    /// <summary>Routing-key patterns whose builds are untrusted (<c>--untrusted-key</c>, or the pool's spec.routing.untrustedKeys).</summary>
    public IReadOnlyList<string> UntrustedKeys { get; init; } = [];

    /// <summary>Bounded-load factor c (<c>--bounded-load-factor</c>).</summary>
    public double BoundedLoadFactor { get; init; } = 1.25;

    /// <summary>The load bound is never below this many builds per builder (see <see cref="PlacementOptions.MinimumLoadBound"/>).</summary>
    public int MinimumLoadBound { get; init; } = 2;

    /// <summary>Adds a registry cache to builds that have none; null leaves every Solve as the client sent it.</summary>
    public CacheInjectionOptions? CacheInjection { get; init; }

    /// <summary>Admission slots per builder unless its backend says otherwise (<c>--max-concurrent-builds</c>).</summary>
    public int MaxConcurrentBuilds { get; init; } = 4;

    /// <summary>How long a build waits for a slot (<c>--queue-timeout</c>).</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public BuildCorrelatorOptions Correlation { get; init; } = new();

    /// <summary>How long a stopping gateway lets running builds finish before it cuts them (<c>--shutdown-timeout</c>).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// PEM server certificate (<c>--tls-cert</c>); with <see cref="TlsKeyPath"/> the gateway serves
    /// HTTP/2 over TLS instead of h2c. It offers ALPN h2 and also takes clients that negotiate no
    /// protocol and speak HTTP/2 with prior knowledge, as buildx's remote driver does.
    /// </summary>
    public string? TlsCertificatePath { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/> (<c>--tls-key</c>).</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>
    /// PEM CA bundle (<c>--client-ca</c>); when set, a client certificate must chain to it, and
    /// (unless <see cref="RequireClientCertificate"/> is false) every client must present one.
    /// </summary>
    public string? ClientCaPath { get; init; }

    /// <summary>
    /// With <see cref="ClientCaPath"/>: clients without a certificate fail the TLS handshake
    /// (<c>--require-client-certificate</c>, default true). False lets them build anonymously
    /// (the pool's <c>requireClientCertificate: false</c>); a certificate they do present is still checked.
    /// </summary>
    public bool RequireClientCertificate { get; init; } = true;

    /// <summary>How long a client may take over its TLS handshake before the gateway closes the connection (<c>--tls-handshake-timeout</c>).</summary>
    public TimeSpan TlsHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>HTTP/2 streams one client connection may have open (a build uses a handful; LLBBridge file reads add more).</summary>
    public int MaxStreamsPerConnection { get; init; } = 256;

    /// <summary>Request header list limit; session headers are short, so 64 KiB is generous.</summary>
    public int MaxRequestHeadersTotalSize { get; init; } = 64 * 1024;

    /// <summary>
    /// Longest session id, build ref or LLBBridge build id a call may carry, in bytes
    /// (<c>--max-id-length</c>). BuildKit's ids are 25 characters; longer ones are refused with
    /// <c>INVALID_ARGUMENT</c> before the gateway keeps them.
    /// </summary>
    public int MaxIdLength { get; init; } = 256;

    /// <summary>
    /// Longest session shared key, in bytes (<c>--max-shared-key-length</c>). buildx sends the
    /// context directory's name (at most 255 bytes on Linux) and a 16-digit node id.
    /// </summary>
    public int MaxSharedKeyLength { get; init; } = 512;

    /// <summary>
    /// Longest routing key input a call may carry, in bytes (<c>--max-routing-key-length</c>): the
    /// Solve's image name and cache ref and the <c>:authority</c>. Image references stay under 255
    /// bytes for the repository plus a tag of at most 128.
    /// </summary>
    public int MaxRoutingKeyLength { get; init; } = 512;

    /// <summary>
    /// Open client connections, TLS handshakes in progress included (<c>--max-connections</c>).
    /// A connection over it is closed as soon as it is accepted (it does not wait), counted in
    /// <c>buildpool_gateway_refused_connections_total</c> and logged with the flag's name.
    /// </summary>
    public long? MaxConnections { get; init; } = 10_000;

    /// <summary>
    /// Open connections from one source IP address (<c>--max-connections-per-source</c>). buildx
    /// opens a handful per build; clients behind one NAT address share it.
    /// </summary>
    public int MaxConnectionsPerSource { get; init; } = 1_000;

    /// <summary>Open connections of one client certificate identity, counted once its handshake is done (<c>--max-connections-per-tenant</c>).</summary>
    public int MaxConnectionsPerTenant { get; init; } = 1_000;

    /// <summary>
    /// TLS handshakes in progress at once (<c>--max-tls-handshakes</c>): connections that have not
    /// finished theirs cannot take more than this many of <see cref="MaxConnections"/>, so
    /// established connections always find room.
    /// </summary>
    public int MaxPendingTlsHandshakes { get; init; } = 500;

    /// <summary>
    /// How long a client connection with no call open stays open (<c>--idle-timeout</c>). Running
    /// builds are calls, so a long silent step is never cut by it.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Consecutive connect failures (or UNAVAILABLE answers) that take a builder out of placement.</summary>
    public int CircuitFailureThreshold { get; init; } = 3;

    /// <summary>How often a builder whose circuit is open is probed with a connect.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Response bytes one upstream stream may hold for a client that has not read them
    /// (<c>--upstream-stream-buffer</c>): the stream's HTTP/2 receive window, credited back only as
    /// the client reads. A client that stops reading stops its builder's stream at this much.
    /// </summary>
    public int UpstreamStreamBuffer { get; init; } = 1024 * 1024;

    /// <summary>
    /// Response bytes all streams of one upstream connection may hold together
    /// (<c>--upstream-connection-buffer</c>): the connection's receive window, credited back as each
    /// stream's data is read. At least twice <see cref="UpstreamStreamBuffer"/>, so that streams
    /// nobody reads leave room for the others.
    /// </summary>
    public int UpstreamConnectionBuffer { get; init; } = 32 * 1024 * 1024;

    /// <summary>
    /// Response bytes all upstream connections may hold together (<c>--upstream-buffer-total</c>):
    /// each connection reserves its window from it; connections that open once it is spent start
    /// with HTTP/2's minimal 64 KiB window.
    /// </summary>
    public long UpstreamBufferTotal { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// A client connection that takes response data slower than this, in bytes per second, while
    /// the gateway has data for it is closed (<c>--min-response-data-rate</c>; Kestrel's
    /// MinResponseDataRate). Silence is not counted: only time in which a response waits for the
    /// client to read. Null disables the check.
    /// </summary>
    public double? MinResponseDataRate { get; init; } = 4096;

    /// <summary>How long a client may read below <see cref="MinResponseDataRate"/> before it is cut (<c>--min-response-data-rate-grace</c>).</summary>
    public TimeSpan MinResponseDataRateGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Upstream connection settings (pool size; <see cref="Http2ClientPoolOptions.Tls"/> is how
    /// builders whose address is <c>tls://</c> or <c>https://</c> are dialled, from <c>--upstream-ca</c>,
    /// <c>--upstream-cert</c> and <c>--upstream-key</c>). Builders at <c>tcp://</c> get h2c.
    /// </summary>
    public Http2ClientPoolOptions Upstream { get; init; } = new();
}
