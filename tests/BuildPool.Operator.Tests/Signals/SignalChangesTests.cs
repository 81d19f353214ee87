using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Signals;

namespace BuildPool.Operator.Tests.Signals;

public sealed class SignalChangesTests
{
    private static readonly DateTimeOffset At = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void A_heartbeat_reconciles_only_the_volume_it_is_about()
    {
        var before = TestSignals.Lease("web", GatewaySignals.Used("web-0", At), GatewaySignals.Used("web-1", At));
        var after = TestSignals.Lease("web", GatewaySignals.Used("web-0", At), GatewaySignals.Used("web-1", At.AddMinutes(1)));

        Assert.Equal(["web-1"], SignalChanges.Volumes(before, after).Select(r => r.Name));
    }

    [Fact]
    public void A_released_isolation_reconciles_its_base_and_the_fork_that_served_it()
    {
        var before = TestSignals.Lease("web", GatewaySignals.Isolate("web-0", "b1", At));
        var after = TestSignals.Lease("web");

        Assert.Equal(["web-0", "web-0-ib1"], SignalChanges.Volumes(before, after).Select(r => r.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_dedicated_demand_reconciles_no_volume() =>
        Assert.Empty(SignalChanges.Volumes(null, TestSignals.Lease("web", GatewaySignals.Demand("app", null, At))));
}
