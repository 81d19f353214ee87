namespace BuildPool.Operator.Security;

/// <summary>
/// Key names in the Secrets the operator writes and reads: the kubernetes.io/tls names
/// (what cert-manager writes too) for pool Secrets, and the buildx file names for client Secrets.
/// </summary>
public static class TlsSecretKeys
{
    public const string Certificate = "tls.crt";
    public const string PrivateKey = "tls.key";
    public const string CaCertificate = "ca.crt";
    public const string CaPrivateKey = "ca.key";

    public const string ClientCa = "ca.pem";
    public const string ClientCertificate = "cert.pem";
    public const string ClientKey = "key.pem";

    public const string TlsType = "kubernetes.io/tls";
    public const string OpaqueType = "Opaque";
}
