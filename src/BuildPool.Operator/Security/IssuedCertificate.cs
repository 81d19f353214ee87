namespace BuildPool.Operator.Security;

/// <summary>A certificate and its private key in PEM, as they are written into a Secret.</summary>
/// <param name="CertificatePem">The certificate.</param>
/// <param name="PrivateKeyPem">The PKCS#8 private key; never logged, never in status.</param>
/// <param name="SerialNumber">Uppercase hex, exactly as <c>X509Certificate2.SerialNumber</c> reads it.</param>
/// <param name="NotBefore">Start of validity (UTC).</param>
/// <param name="NotAfter">End of validity (UTC).</param>
public sealed record IssuedCertificate(string CertificatePem, string PrivateKeyPem, string SerialNumber, DateTime NotBefore, DateTime NotAfter)
{
    /// <summary>Keeps the private key out of anything that prints the record.</summary>
    public override string ToString() => $"certificate {SerialNumber} valid {NotBefore:O} to {NotAfter:O}";
}
