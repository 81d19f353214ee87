using System.Diagnostics;
using BuildPool.Gateway.Tests.Support;
using BuildPool.TestDoubles;
using Grpc.Core;
using Eventually = BuildPool.Gateway.Tests.Support.Eventually;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>Issue 4's "Done when" against 4 fake builders behind the real gateway, driven like buildx.</summary>
public sealed class GatewayRoutingTests
{
    [Fact]
    public async Task A_build_through_the_gateway_succeeds_and_all_its_calls_reach_one_builder()
    {
        await using var harness = await GatewayHarness.StartAsync();
        var options = GatewayHarness.Project("webshop");

        var result = await harness.Client.BuildAsync(options);

        Assert.True(result.Succeeded, result.ToString());
        var builders = harness.Fleet.BuildersOf(result.Ref);
        Assert.Equal([harness.HomeOf("webshop")], builders);
        var methods = harness.Fleet.CallsOf(result.Ref).Select(c => c.Method).ToHashSet();
        Assert.Superset(new HashSet<string> { "Status", "Session", "Solve", "Ping" }, methods);
        Assert.Equal(1, result.SessionEchoes);
    }
}
