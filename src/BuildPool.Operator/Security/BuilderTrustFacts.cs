namespace BuildPool.Operator.Security;

/// <summary>What the operator sees of a TLS pool's move to the internal CA.</summary>
/// <param name="Step">The step recorded on the internal CA Secret.</param>
/// <param name="BuildersBehind">Builders still running with an older builder certificate Secret than the current one (empty: none).</param>
/// <param name="GatewayOnInternalClient">The gateway Deployment presents the internal CA's client certificate and has no replica left from before.</param>
public sealed record BuilderTrustFacts(BuilderTrustStep Step, IReadOnlyList<string> BuildersBehind, bool GatewayOnInternalClient);
