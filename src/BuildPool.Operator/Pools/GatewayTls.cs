using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;

namespace BuildPool.Operator.Pools;

/// <summary>
/// Where the gateway of a TLS pool finds its files: the server certificate (the pool's own in
/// Managed, the user's in FromSecret or an EndpointTLS binding), the CA its clients' certificates
/// must chain to (the tenant CA unless a binding names another), and its own client certificate
/// towards the builders with the CAs their server certificates chain to (the internal CA's).
/// </summary>
/// <param name="ServerSecret">Secret with tls.crt and tls.key served to clients.</param>
/// <param name="ClientCa">Secret key with a CA for client certificates other than the pool CA; null means the pool CA.</param>
/// <param name="RequireClientCertificate">spec.endpoint.tls.requireClientCertificate.</param>
/// <param name="Digest">Hash of the mounted Secrets' data; a change rolls the gateway. Null when rendering offline.</param>
public sealed record GatewayTls(string ServerSecret, SecretKeyReference? ClientCa, bool RequireClientCertificate, string? Digest)
{
    public const string ServerDirectory = "/etc/buildpool/tls";
    public const string CaDirectory = "/etc/buildpool/ca";
    public const string UpstreamDirectory = "/etc/buildpool/gateway-tls";
    public const string ClientCaFile = "client-ca.crt";

    /// <summary>Pod template annotation carrying <see cref="Digest"/>.</summary>
    public const string DigestAnnotation = "buildpool.dev/tls-digest";

    /// <summary>
    /// The Secret with the client certificate the gateway presents to builders and the CA bundle
    /// it verifies them with (tls.crt, tls.key, ca.crt). Null means the internal CA's
    /// (<c>&lt;pool&gt;-builder-client-tls</c>); a pool moving off the tenant CA names its
    /// gateway certificate Secret until its builders trust the internal CA.
    /// </summary>
    public string? UpstreamSecret { get; init; }

    /// <summary>The gateway's TLS for <paramref name="pool"/>; null when its endpoint has TLS disabled.</summary>
    public static GatewayTls? For(BuilderPool pool, EndpointTlsBinding? endpointBinding, string? digest)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var tls = pool.Spec.Endpoint.Tls;
        if (tls.Mode == TlsMode.Disabled)
        {
            return null;
        }

        var server = endpointBinding?.ServerCertificateSecretRef.Name
            ?? (tls.Mode == TlsMode.FromSecret && tls.SecretName is { Length: > 0 } own ? own : ResourceNames.GatewayTlsSecret(pool.Metadata.Name));
        return new GatewayTls(server, endpointBinding?.ClientCaSecretRef, tls.RequireClientCertificate, digest);
    }

    /// <summary>The gateway flags (the gateway reads exactly these).</summary>
    public IEnumerable<string> Args()
    {
        yield return "--tls-cert";
        yield return $"{ServerDirectory}/tls.crt";
        yield return "--tls-key";
        yield return $"{ServerDirectory}/tls.key";
        yield return "--client-ca";
        yield return ClientCa is null ? $"{CaDirectory}/ca.crt" : $"{CaDirectory}/{ClientCaFile}";
        if (!RequireClientCertificate)
        {
            yield return "--require-client-certificate=false";
        }

        yield return "--upstream-ca";
        yield return $"{UpstreamDirectory}/ca.crt";
        yield return "--upstream-cert";
        yield return $"{UpstreamDirectory}/tls.crt";
        yield return "--upstream-key";
        yield return $"{UpstreamDirectory}/tls.key";
    }
}
