using BuildPool.Api.V1Alpha1;

namespace BuildPool.Api.Tests;

public sealed class GatewaySignalsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 18, 0, 5, TimeSpan.FromHours(1));

    private static GatewaySignal Read(KeyValuePair<string, string> signal) => GatewaySignals.Parse(signal.Key, signal.Value)!;

    [Fact]
    public void Every_signal_reads_back_as_written_with_its_time_in_utc_to_the_second()
    {
        var demand = Read(GatewaySignals.Demand("registry.example.test/team app", "ci/team-a", At));
        Assert.Equal((GatewaySignalKind.Demand, "ci/team-a", "registry.example.test/team app"), (demand.Kind, demand.Tenant, demand.Detail));
        Assert.Equal(new DateTime(2026, 12, 7, 17, 0, 5, DateTimeKind.Utc), demand.At);
        Assert.Equal((GatewaySignalKind.Forks, "web-0", "3"), (Read(GatewaySignals.Forks("web-0", 3, At)).Kind, Read(GatewaySignals.Forks("web-0", 3, At)).Subject, Read(GatewaySignals.Forks("web-0", 3, At)).Detail));
        Assert.Equal(("web-0", "b1c2"), (Read(GatewaySignals.Isolate("web-0", "b1c2", At)).Subject, Read(GatewaySignals.Isolate("web-0", "b1c2", At)).Detail));
        Assert.Equal(GatewaySignalKind.Start, Read(GatewaySignals.Start("web-0", At)).Kind);
        Assert.Equal(GatewaySignalKind.Used, Read(GatewaySignals.Used("web-0", At)).Kind);
    }

    [Fact]
    public void A_demand_without_a_tenant_or_with_a_tenant_that_has_spaces_is_written_without_one() =>
        Assert.All(new[] { null, string.Empty, "a b" }, tenant => Assert.Null(Read(GatewaySignals.Demand("app", tenant, At)).Tenant));

    [Fact]
    public void Annotation_names_stay_valid_for_the_longest_keys_and_volume_names()
    {
        var names = new[] { GatewaySignals.Demand(new string('k', 4000), null, At).Key, GatewaySignals.Used(new string('v', 253), At).Key, GatewaySignals.IsolateName(new string('v', 253), "b1") };
        Assert.All(names, n => Assert.Matches("^[a-z.]+\\.signals\\.buildpool\\.dev/[0-9a-f]{16}$", n));
        Assert.NotEqual(GatewaySignals.IsolateName("web-0", "b1"), GatewaySignals.IsolateName("web-0", "b2"));
    }

    [Theory]
    [InlineData("start.signals.buildpool.dev/x", "yesterday web-0")]
    [InlineData("start.signals.buildpool.dev/x", "2026-12-07T18:00:00Z web-0 extra")]
    [InlineData("forks.signals.buildpool.dev/x", "2026-12-07T18:00:00Z web-0 -1")]
    [InlineData("forks.signals.buildpool.dev/x", "2026-12-07T18:00:00Z web-0 99999999999999999999")]
    [InlineData("demand.signals.buildpool.dev/x", "2026-12-07T18:00:00Z -")]
    public void A_signal_whose_value_cannot_be_read_says_why(string name, string value) =>
        Assert.NotNull(GatewaySignals.Parse(name, value)!.Invalid);

    [Fact]
    public void Annotations_that_are_not_signals_are_ignored() =>
        Assert.Empty(GatewaySignals.ParseAll(new Dictionary<string, string> { ["buildpool.dev/spec-hash"] = "x", ["demand.buildpool.dev/abc"] = "old" }));

    [Theory]
    [InlineData("registry.example.test/team/app", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("new\nline", false)]
    public void Routing_keys_are_checked_for_what_a_volume_can_hold(string key, bool valid) =>
        Assert.Equal(valid, RoutingKeyRules.Problem(key) is null);

    [Fact]
    public void A_key_one_over_the_spec_keys_limit_is_refused_naming_the_limit()
    {
        Assert.Null(RoutingKeyRules.Problem(new string('a', 253)));
        Assert.Equal("the key is 254 characters long, over the limit of 253", RoutingKeyRules.Problem(new string('a', 254)));
    }
}
