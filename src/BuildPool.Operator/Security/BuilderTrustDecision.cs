namespace BuildPool.Operator.Security;

/// <summary>
/// The step a pool is at after this reconcile, and what each of its certificates looks like in it.
/// </summary>
/// <param name="Step">The step to record and render.</param>
/// <param name="Advanced">True when <paramref name="Step"/> follows the recorded one (worth an Event).</param>
/// <param name="Message">What a person reads in the pool's BuilderTrust condition: the step, and what it waits for.</param>
public sealed record BuilderTrustDecision(BuilderTrustStep Step, bool Advanced, string Message)
{
    /// <summary>Builders' server certificate comes from the internal CA (else the tenant CA's certificate is kept).</summary>
    public bool BuilderServerFromInternalCa => Step >= BuilderTrustStep.DropTenantCa;

    /// <summary>Builders' <c>[grpc.tls] ca</c> bundle still holds the tenant CA.</summary>
    public bool BuildersTrustTenantCa => Step < BuilderTrustStep.DropTenantCa;

    /// <summary>The gateway and the operator present the internal CA's client certificate.</summary>
    public bool InternalClientCertificate => Step >= BuilderTrustStep.SwitchClientCertificate;

    /// <summary>The gateway and the operator still accept builders' server certificates from the tenant CA.</summary>
    public bool UpstreamTrustsTenantCa => Step < BuilderTrustStep.Complete;

    /// <summary>The BuilderTrust condition is True only when builders trust the internal CA alone.</summary>
    public bool Done => Step == BuilderTrustStep.Complete;
}
