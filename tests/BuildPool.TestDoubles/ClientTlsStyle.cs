namespace BuildPool.TestDoubles;

/// <summary>How a test client opens TLS to a server that speaks gRPC; the gateway must take both.</summary>
public enum ClientTlsStyle
{
    /// <summary>
    /// As buildx's remote driver since v0.13 (<c>driver/remote/driver.go</c>, <c>Dial</c>): it wraps
    /// the TCP connection in TLS itself, with the server name, CA and client certificate but no
    /// ALPN protocols, then speaks HTTP/2 with prior knowledge. grpc-go runs over that dialer with
    /// insecure credentials, so every request says <c>:scheme http</c>.
    /// </summary>
    Buildx,

    /// <summary>ALPN <c>h2</c> offered and required, <c>:scheme https</c>: buildctl, grpc-go with TLS credentials, .NET's HttpClient.</summary>
    AlpnH2,
}
