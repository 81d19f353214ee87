namespace BuildPool.Operator.Security;

/// <summary>
/// Where a TLS pool stands in moving its builders from the tenant CA to the internal CA. A pool
/// created with an internal CA starts at <see cref="Complete"/>; a pool whose builders trusted
/// the tenant CA (created before there was an internal one) goes through every step in order,
/// each waiting until the restarts of the one before have finished, so no builder ever refuses
/// the certificate the gateway or the operator presents to it.
/// </summary>
public enum BuilderTrustStep
{
    /// <summary>Builders restart trusting the internal and the tenant CA; the gateway still presents its old certificate.</summary>
    TrustInternalCa,

    /// <summary>The gateway and the operator present the internal CA's client certificate.</summary>
    SwitchClientCertificate,

    /// <summary>Builders restart with a server certificate from the internal CA, trusting only it.</summary>
    DropTenantCa,

    /// <summary>Builders trust only the internal CA; the gateway verifies them against it alone.</summary>
    Complete,
}
