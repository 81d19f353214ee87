namespace BuildPool.Operator.Security;

/// <summary>
/// Pure: the next step of a pool's move from builders that trust the tenant CA to builders that
/// trust only the internal CA. Each step changes one side of the builder connection, and the next
/// waits until that change has reached every running pod, so both sides always share a CA:
/// <list type="number">
/// <item>builders trust internal + tenant CA (restart through drain, one at a time);</item>
/// <item>when none runs with the old trust: the gateway and operator present the internal CA's certificate (rolling update);</item>
/// <item>when no old gateway replica is left: builders get an internal server certificate and trust only the internal CA;</item>
/// <item>when none runs with the old certificate: the gateway verifies builders against the internal CA alone.</item>
/// </list>
/// One step per decision: the reconcile that records a step applies it, and the next one observes it.
/// </summary>
public static class BuilderTrust
{
    public static BuilderTrustDecision Decide(BuilderTrustFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var behind = facts.BuildersBehind.Count == 0 ? null : Names(facts.BuildersBehind);
        return facts.Step switch
        {
            BuilderTrustStep.TrustInternalCa when behind is null =>
                Advance(BuilderTrustStep.SwitchClientCertificate, "step 2 of 3: builders trust the internal and the tenant CA; the gateway and the operator switch to the internal CA's client certificate (rolling update of the gateway)"),
            BuilderTrustStep.TrustInternalCa =>
                Stay(facts.Step, $"step 1 of 3: builders restart (through drain, one at a time) to trust the internal CA besides the tenant CA; waiting for {behind}"),
            BuilderTrustStep.SwitchClientCertificate when facts.GatewayOnInternalClient =>
                Advance(BuilderTrustStep.DropTenantCa, "step 3 of 3: the gateway presents the internal CA's certificate; builders restart with a certificate from the internal CA and stop trusting the tenant CA"),
            BuilderTrustStep.SwitchClientCertificate =>
                Stay(facts.Step, "step 2 of 3: builders trust the internal and the tenant CA; waiting for every gateway replica to present the internal CA's client certificate"),
            BuilderTrustStep.DropTenantCa when behind is null =>
                Advance(BuilderTrustStep.Complete, CompleteMessage),
            BuilderTrustStep.DropTenantCa =>
                Stay(facts.Step, $"step 3 of 3: builders restart (through drain, one at a time) to trust only the internal CA; tenant certificates still open {behind}"),
            _ => Stay(BuilderTrustStep.Complete, CompleteMessage),
        };
    }

    /// <summary>The condition message of a pool whose builders trust only the internal CA.</summary>
    public const string CompleteMessage = "builders trust only the pool's internal CA, which signs nothing but the gateway's and the operator's client certificate; tenant certificates cannot open them";

    private static BuilderTrustDecision Advance(BuilderTrustStep step, string message) => new(step, Advanced: true, message);

    private static BuilderTrustDecision Stay(BuilderTrustStep step, string message) => new(step, Advanced: false, message);

    private static string Names(IReadOnlyList<string> builders) =>
        builders.Count <= 3 ? string.Join(", ", builders) : $"{string.Join(", ", builders.Take(3))} and {builders.Count - 3} more";
}
