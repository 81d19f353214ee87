using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Bindings;

/// <summary>
/// The grace period of a renewed ClientAccess certificate. Renewal happens after two thirds of the
/// validity, so copies of the replaced certificate (a workstation, a CI cache, a Secret mount the
/// kubelet has not refreshed yet) are still valid for a third of it; the binding's status keeps
/// that certificate as the previous one, and the gateway accepts it until it expires. Pure.
/// </summary>
public static class ClientCertificateGrace
{
    /// <summary>
    /// The certificate to record as previous beside <paramref name="currentSerial"/>, issued into
    /// <paramref name="target"/> (<c>namespace/name</c> of the Secret): the one the status in
    /// <paramref name="recorded"/> names as current when that is another serial, else the one it
    /// already names as previous; either only while it has not expired at <paramref name="now"/>.
    /// Null when the status was written for another Secret: a binding that moved to another
    /// target namespace (another tenant identity) or Secret must not keep the old certificate
    /// working, just as the old Secret is deleted.
    /// </summary>
    public static (string SerialNumber, DateTime NotAfter)? Previous(SecretBindingStatus? recorded, string target, string currentSerial, DateTime now)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentException.ThrowIfNullOrEmpty(currentSerial);
        if (recorded is null || !string.Equals(recorded.IssuedSecret, target, StringComparison.Ordinal))
        {
            return null;
        }

        return Live(recorded.CertificateSerialNumber, recorded.CertificateNotAfter, currentSerial, now)
            ?? Live(recorded.PreviousCertificateSerialNumber, recorded.PreviousCertificateNotAfter, currentSerial, now);
    }

    /// <summary>
    /// The previous certificate <paramref name="recorded"/> names, while it has not expired at
    /// <paramref name="now"/>; for a status kept unchanged while the binding waits (no new issue).
    /// </summary>
    public static (string SerialNumber, DateTime NotAfter)? StillValid(SecretBindingStatus? recorded, DateTime now) =>
        recorded is null ? null : Live(recorded.PreviousCertificateSerialNumber, recorded.PreviousCertificateNotAfter, currentSerial: null, now);

    private static (string SerialNumber, DateTime NotAfter)? Live(string? serial, DateTime? notAfter, string? currentSerial, DateTime now) =>
        serial is { Length: > 0 }
        && notAfter is { } expires
        && expires.ToUniversalTime() > now.ToUniversalTime()
        && !string.Equals(serial, currentSerial, StringComparison.OrdinalIgnoreCase)
            ? (serial, expires.ToUniversalTime())
            : null;
}
