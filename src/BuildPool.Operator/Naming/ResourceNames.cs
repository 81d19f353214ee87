using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Naming;

/// <summary>
/// Names of everything derived from a pool or a volume. They are stable functions of the
/// parent's name, so a restarted operator finds what it created instead of creating it twice.
/// </summary>
public static class ResourceNames
{
    /// <summary>
    /// Longest pool name whose derived names stay valid DNS labels (63), the limit for Services:
    /// "&lt;pool&gt;-&lt;index up to 3 digits&gt;-builder" must fit.
    /// </summary>
    public const int MaxPoolNameLength = 63 - 12;

    /// <summary>Longest CacheVolume name: its builder Service is "&lt;volume&gt;-builder".</summary>
    public const int MaxVolumeNameLength = CacheVolumeForks.MaxVolumeNameLength;

    public static string HashedVolume(string pool, int index) => $"{pool}-{index}";

    public static string GatewayService(string pool) => pool;

    public static string Gateway(string pool) => $"{pool}-gateway";

    public static string BuildersPolicy(string pool) => $"{pool}-builders";

    public static string StateClaim(string volume) => $"{volume}-state";

    public static string Config(string volume) => $"{volume}-buildkitd";

    public static string Builder(string volume) => $"{volume}-builder";

    public static string BuilderService(string volume) => $"{volume}-builder";

    /// <summary>
    /// The address the gateway and the operator dial a builder at: <c>tcp://</c> for plain gRPC,
    /// <c>https://</c> when the pool's builders serve TLS (and require a client certificate).
    /// </summary>
    public static string BuilderEndpoint(string volume, string @namespace, int port, bool tls = false) =>
        $"{(tls ? "https" : "tcp")}://{BuilderService(volume)}.{@namespace}.svc:{port}";

    /// <summary>
    /// The pool's tenant CA (keys ca.crt and ca.key): it signs ClientAccess certificates and the
    /// gateway's server certificate, and only the gateway trusts it. Builders never do.
    /// </summary>
    public static string CaSecret(string pool) => $"{pool}-ca";

    /// <summary>
    /// The pool's internal CA (keys ca.crt and ca.key): it signs the builders' server certificate
    /// and the one client certificate BuildPool's own components present to builders.
    /// </summary>
    public static string InternalCaSecret(string pool) => $"{pool}-internal-ca";

    /// <summary>The gateway's server certificate (Managed), from the tenant CA.</summary>
    public static string GatewayTlsSecret(string pool) => $"{pool}-gateway-tls";

    /// <summary>
    /// The client certificate the gateway and the operator present to builders, from the internal
    /// CA, with the CA bundle builders' server certificates chain to (ca.crt).
    /// </summary>
    public static string BuilderClientTlsSecret(string pool) => $"{pool}-builder-client-tls";

    /// <summary>The builders' server certificate, shared by every builder of the pool.</summary>
    public static string BuilderTlsSecret(string pool) => $"{pool}-builder-tls";

    /// <summary>Overflow fork <paramref name="index"/> of a volume: <c>&lt;volume&gt;-f&lt;index&gt;</c>.</summary>
    public static string Fork(string volume, int index) => CacheVolumeForks.OverflowName(volume, index);

    /// <summary>
    /// Whether an untrusted build's id (written by the gateway) can name an isolated fork: it ends
    /// up in a name and a label value, so only short lowercase letters and digits.
    /// </summary>
    public static bool IsValidForkId(string id) =>
        id is { Length: > 0 and <= 16 } && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));

    /// <summary>The isolated fork of a volume for one untrusted build: <c>&lt;volume&gt;-i&lt;build id&gt;</c>.</summary>
    public static string IsolatedFork(string volume, string id) => CacheVolumeForks.IsolatedName(volume, id);
}
