using BuildPool.TestDoubles.Attacks;
using Xunit.Abstractions;

namespace BuildPool.Gateway.Tests.Attacks;

/// <summary>
/// One hostile client against the production gateway process (default limits) while honest builds
/// run beside it: every honest build completes, the gateway stays within 256 MiB of idle, and
/// nothing the attack started stays tracked once its client is gone. The normal suite runs each
/// attack small; <c>make chaos</c> runs it at the size that would exhaust an unprotected gateway.
/// </summary>
public sealed class AttackSuiteTests(ITestOutputHelper output)
{
    public static TheoryData<string> Attacks => [.. GatewayAttacks.All.Select(a => a.Name)];

    [Theory]
    [MemberData(nameof(Attacks))]
    public Task One_client_attacking_the_gateway_leaves_honest_builds_completing_and_its_memory_bounded(string attack) =>
        RunAsync(GatewayAttacks.Named(attack), GatewayAttacks.Named(attack).ShortCount);

    [Theory]
    [Trait("Category", "Chaos")]
    [MemberData(nameof(Attacks))]
    public Task One_client_attacking_the_gateway_at_full_size_leaves_honest_builds_completing_and_its_memory_bounded(string attack) =>
        RunAsync(GatewayAttacks.Named(attack), GatewayAttacks.Named(attack).LongCount);

    private async Task RunAsync(GatewayAttack attack, int count)
    {
        await using var suite = await AttackSuite.StartAsync();

        var report = await suite.RunAsync(attack, count);

        output.WriteLine(report.ToString());
        Assert.True(report.HonestSucceeded == report.HonestTotal, report.ToString());
        Assert.True(report.PeakAboveIdleBytes < AttackSuite.MemoryBudgetBytes, report.ToString());
        Assert.True(report.ActiveBuildsAfter == 0 && report.QueuedBuildsAfter == 0, report.ToString());
        Assert.Equal(count, report.Tally.Sent);
    }
}
