using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Tests.Discovery;
using BuildPool.TestDoubles;
using Grpc.Core;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>
/// Keys a client chooses become Dedicated volumes' spec.keys entries: the gateway checks each
/// against the key rule and refuses a build whose key breaks it, before it becomes demand.
/// </summary>
public sealed class RoutingKeyRefusalTests
{
    [Fact]
    public async Task A_254_character_image_name_is_refused_with_invalid_argument_naming_the_key_rule_and_never_becomes_demand()
    {
        await using var h = await PoolGatewayHarness.StartAsync(
            ["app-volume"],
            pool: p =>
            {
                p.Assignment.Mode = AssignmentMode.Dedicated;
                p.Scaling.StartTimeout = "2s";
            },
            volume: (_, spec) =>
            {
                spec.Keys = ["app"];
                return spec;
            });
        var name = "reg.test/" + new string('a', 245);

        var refused = await h.Client.BuildAsync(new FakeBuildxOptions { Bootstrap = false, ExporterImage = name + ":1" });
        var spaced = await h.Client.BuildAsync(new FakeBuildxOptions { Bootstrap = false, ContextName = "my app" });
        var fine = await h.Client.BuildAsync(new FakeBuildxOptions { Bootstrap = false, ExporterImage = "app:1" });

        Assert.Equal(StatusCode.InvalidArgument, refused.Status);
        Assert.Contains("(from ImageName) refused: it is 254 characters long; a routing key is " + RoutingKeyName.Rule, refused.Message, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, spaced.Status);
        Assert.Contains("routing key \"my app\" (from SessionDirectory) refused: it contains ' '", spaced.Message, StringComparison.Ordinal);
        Assert.Empty(h.Fleet.CallsOf(refused.Ref));
        Assert.Empty(h.Fleet.CallsOf(spaced.Ref));
        var signals = await h.Leases.GetAsync(PoolGatewayHarness.Ns, GatewaySignals.LeaseName(PoolGatewayHarness.PoolName));
        Assert.DoesNotContain(signals?.Metadata.Annotations ?? new Dictionary<string, string>(), a => a.Key.StartsWith(GatewaySignals.DemandPrefix, StringComparison.Ordinal));
        Assert.True(fine.Succeeded, fine.ToString());
        Assert.Equal("app-volume", fine.Builder);
    }
}
