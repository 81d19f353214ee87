namespace BuildPool.Gateway.Passthrough;

/// <summary>What passthrough routing reads from a TLS ClientHello without terminating TLS.</summary>
/// <param name="ServerName">
/// The SNI <c>host_name</c> (lower-cased), or null when the client sent none (a client that
/// connects by IP address sends none).
/// </param>
/// <param name="Length">Bytes of the connection that held the hello (whole TLS records, headers included).</param>
public readonly record struct TlsClientHello(string? ServerName, int Length);
