using BuildPool.Operator.Security;

namespace BuildPool.Operator.Tests.Security;

/// <summary>
/// <see cref="BuilderTrust.Decide"/> as a table: a pool from before the internal CA moves one step
/// at a time, and only once the restarts of the step before have reached every pod.
/// </summary>
public sealed class BuilderTrustDecideTests
{
    public sealed record Case(string Name, BuilderTrustStep Step, string[] Behind, bool GatewayOnInternalClient, BuilderTrustStep Expected, bool Advanced, string MessagePart)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases =>
    [
        new("builders still restarting to trust the internal CA keep the gateway on its old certificate",
            BuilderTrustStep.TrustInternalCa, ["ci-0-builder", "ci-1-builder"], false, BuilderTrustStep.TrustInternalCa, false, "waiting for ci-0-builder, ci-1-builder"),
        new("once no builder runs with the old trust the gateway switches its client certificate",
            BuilderTrustStep.TrustInternalCa, [], false, BuilderTrustStep.SwitchClientCertificate, true, "step 2 of 3"),
        new("builders keep the tenant CA while an old gateway replica still presents its certificate",
            BuilderTrustStep.SwitchClientCertificate, [], false, BuilderTrustStep.SwitchClientCertificate, false, "waiting for every gateway replica"),
        new("once every gateway replica presents the internal certificate builders drop the tenant CA",
            BuilderTrustStep.SwitchClientCertificate, [], true, BuilderTrustStep.DropTenantCa, true, "stop trusting the tenant CA"),
        new("builders not yet restarted without the tenant CA are named as still open to tenants",
            BuilderTrustStep.DropTenantCa, ["ci-0-builder"], true, BuilderTrustStep.DropTenantCa, false, "tenant certificates still open ci-0-builder"),
        new("once every builder trusts only the internal CA the move is complete",
            BuilderTrustStep.DropTenantCa, [], true, BuilderTrustStep.Complete, true, "trust only the pool's internal CA"),
        new("a complete pool stays complete whatever restarts",
            BuilderTrustStep.Complete, ["ci-0-builder"], false, BuilderTrustStep.Complete, false, "tenant certificates cannot open them"),
        new("a long list of builders is cut to three and a count",
            BuilderTrustStep.TrustInternalCa, ["a", "b", "c", "d", "e"], false, BuilderTrustStep.TrustInternalCa, false, "waiting for a, b, c and 2 more"),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_step_waits_for_the_one_before_to_reach_every_pod(Case c)
    {
        var decision = BuilderTrust.Decide(new BuilderTrustFacts(c.Step, c.Behind, c.GatewayOnInternalClient));

        Assert.Equal((c.Expected, c.Advanced), (decision.Step, decision.Advanced));
        Assert.Contains(c.MessagePart, decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_every_step_the_certificate_each_side_presents_is_one_the_other_side_takes_from_before_and_after_the_step()
    {
        // Builders and gateway replicas from the step before are still running when a step starts.
        var steps = Enum.GetValues<BuilderTrustStep>();
        for (var i = 1; i < steps.Length; i++)
        {
            var before = new BuilderTrustDecision(steps[i - 1], false, string.Empty);
            var after = new BuilderTrustDecision(steps[i], true, string.Empty);
            foreach (var builder in new[] { before, after })
            {
                foreach (var gateway in new[] { before, after })
                {
                    // The gateway's client certificate: internal CA's or the tenant CA's; builders take it if their bundle has that CA.
                    var clientAccepted = gateway.InternalClientCertificate || builder.BuildersTrustTenantCa;
                    // The builders' server certificate: internal CA's (every upstream bundle has it) or the
                    // tenant CA's, which the gateway takes while its upstream bundle still has that CA.
                    var serverAccepted = builder.BuilderServerFromInternalCa || gateway.UpstreamTrustsTenantCa;
                    Assert.True(clientAccepted && serverAccepted, $"builders of {builder.Step} and a gateway of {gateway.Step} cannot talk");
                }
            }
        }

        var done = new BuilderTrustDecision(BuilderTrustStep.Complete, false, string.Empty);
        Assert.False(done.BuildersTrustTenantCa || done.UpstreamTrustsTenantCa);
    }
}
