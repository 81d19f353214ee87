using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BuildPool.Http2;

namespace BuildPool.Gateway.Server;

/// <summary>
/// The TLS flags of <c>buildpool gateway</c>, checked as a whole: pairs go together, files must
/// exist and parse, and the error names the flag, the file and what is wrong, in one line for a
/// pod's crash log.
/// </summary>
public sealed record GatewayTlsFlags
{
    /// <summary><c>--tls-cert</c>: PEM server certificate (chain) of the gateway.</summary>
    public string? TlsCertificate { get; init; }

    /// <summary><c>--tls-key</c>: PEM private key of <see cref="TlsCertificate"/>.</summary>
    public string? TlsKey { get; init; }

    /// <summary><c>--client-ca</c>: PEM CA bundle client certificates must chain to (the pool CA).</summary>
    public string? ClientCa { get; init; }

    /// <summary><c>--require-client-certificate</c>; null when not given (then: required whenever <see cref="ClientCa"/> is set).</summary>
    public bool? RequireClientCertificate { get; init; }

    /// <summary><c>--upstream-ca</c>: PEM CA bundle builder server certificates must chain to.</summary>
    public string? UpstreamCa { get; init; }

    /// <summary><c>--upstream-cert</c>: PEM client certificate the gateway presents to builders (mTLS).</summary>
    public string? UpstreamCertificate { get; init; }

    /// <summary><c>--upstream-key</c>: PEM private key of <see cref="UpstreamCertificate"/>.</summary>
    public string? UpstreamKey { get; init; }

    /// <summary>
    /// <paramref name="options"/> with these settings; throws <see cref="FormatException"/> naming
    /// the flag when a pair is incomplete or a file is missing or unreadable.
    /// </summary>
    public GatewayOptions ApplyTo(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Pair("--tls-cert", TlsCertificate, "--tls-key", TlsKey);
        Pair("--upstream-cert", UpstreamCertificate, "--upstream-key", UpstreamKey);
        if (ClientCa is not null && TlsCertificate is null)
        {
            throw new FormatException("--client-ca needs --tls-cert and --tls-key: client certificates exist only on a TLS listener");
        }

        if (RequireClientCertificate == true && ClientCa is null)
        {
            throw new FormatException("--require-client-certificate needs --client-ca: without it no client certificate can be checked");
        }

        if (TlsCertificate is not null)
        {
            KeyPair("--tls-cert", TlsCertificate, "--tls-key", TlsKey!).Dispose();
        }

        if (ClientCa is not null)
        {
            Bundle("--client-ca", ClientCa);
        }

        var upstream = options.Upstream;
        if (UpstreamCa is not null || UpstreamCertificate is not null)
        {
            var tls = new Http2TlsOptions
            {
                ServerName = upstream.Tls?.ServerName,
                TrustedRoots = UpstreamCa is null ? upstream.Tls?.TrustedRoots : Bundle("--upstream-ca", UpstreamCa),
                ClientCertificates = UpstreamCertificate is null
                    ? upstream.Tls?.ClientCertificates
                    : [KeyPair("--upstream-cert", UpstreamCertificate, "--upstream-key", UpstreamKey!)],
            };
            upstream = upstream.Clone();
            upstream.Tls = tls;
        }

        return options with
        {
            TlsCertificatePath = TlsCertificate,
            TlsKeyPath = TlsKey,
            ClientCaPath = ClientCa,
            RequireClientCertificate = RequireClientCertificate ?? true,
            Upstream = upstream,
        };
    }

    private static void Pair(string flag, string? value, string other, string? otherValue)
    {
        if ((value is null) != (otherValue is null))
        {
            throw new FormatException($"{flag} and {other} go together: give both or neither");
        }
    }

    private static void Exists(string flag, string path)
    {
        if (!File.Exists(path))
        {
            throw new FormatException($"{flag} '{path}': no such file");
        }
    }

    private static X509Certificate2Collection Bundle(string flag, string path)
    {
        Exists(flag, path);
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(path);
        }
        catch (CryptographicException ex)
        {
            throw new FormatException($"{flag} '{path}': not a PEM certificate bundle ({ex.Message})", ex);
        }

        return bundle.Count > 0 ? bundle : throw new FormatException($"{flag} '{path}': holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }

    private static X509Certificate2 KeyPair(string certificateFlag, string certificatePath, string keyFlag, string keyPath)
    {
        Exists(certificateFlag, certificatePath);
        Exists(keyFlag, keyPath);
        try
        {
            var pair = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // SslStream on Linux wants the key in a form it can export to OpenSSL; a PEM-loaded
            // ephemeral key works for servers but not for client certificates everywhere.
            using (pair)
            {
                return X509CertificateLoader.LoadPkcs12(pair.Export(X509ContentType.Pkcs12), null);
            }
        }
        catch (CryptographicException ex)
        {
            throw new FormatException($"{certificateFlag} '{certificatePath}' with {keyFlag} '{keyPath}': not a PEM certificate and its matching private key ({ex.Message})", ex);
        }
    }
}
