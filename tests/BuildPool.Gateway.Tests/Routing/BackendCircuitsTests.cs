using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Tests.Routing;

public sealed class BackendCircuitsTests
{
    private static (Placement Placement, BackendCircuits Circuits, Dictionary<string, string> Before) Pool()
    {
        var placement = new Placement(new PlacementOptions());
        placement.Update([new Backend("ci-0"), new Backend("ci-1"), new Backend("ci-2")]);
        var before = Enumerable.Range(0, 300).Select(i => $"project-{i}").ToDictionary(k => k, k => placement.Place(k).Backend!.Id);
        return (placement, new BackendCircuits(placement, failureThreshold: 3), before);
    }

    [Fact]
    public void Three_consecutive_failures_take_a_builder_out_and_move_its_keys_to_the_next_builder()
    {
        var (placement, circuits, before) = Pool();

        circuits.RecordFailure("ci-1");
        circuits.RecordFailure("ci-1");
        Assert.False(circuits.IsOpen("ci-1"));
        circuits.RecordFailure("ci-1");

        Assert.True(circuits.IsOpen("ci-1"));
        Assert.Equal(["ci-1"], circuits.OpenBackends);
        foreach (var (key, owner) in before)
        {
            var now = placement.Place(key).Backend!.Id;
            Assert.NotEqual("ci-1", now);
            if (owner != "ci-1")
            {
                Assert.Equal(owner, now);
            }
        }
    }

    [Fact]
    public void A_success_between_failures_resets_the_count()
    {
        var (_, circuits, _) = Pool();

        circuits.RecordFailure("ci-0");
        circuits.RecordFailure("ci-0");
        circuits.RecordSuccess("ci-0");
        circuits.RecordFailure("ci-0");
        circuits.RecordFailure("ci-0");

        Assert.False(circuits.IsOpen("ci-0"));
    }

    [Fact]
    public void A_successful_probe_closes_the_circuit_and_the_keys_come_back()
    {
        var (placement, circuits, before) = Pool();
        for (var i = 0; i < 5; i++)
        {
            circuits.RecordFailure("ci-2");
        }

        circuits.RecordSuccess("ci-2");

        Assert.False(circuits.IsOpen("ci-2"));
        Assert.Empty(circuits.OpenBackends);
        Assert.All(before, pair => Assert.Equal(pair.Value, placement.Place(pair.Key).Backend!.Id));
    }

    [Fact]
    public void An_open_circuit_survives_a_discovery_update()
    {
        var (placement, circuits, _) = Pool();
        for (var i = 0; i < 3; i++)
        {
            circuits.RecordFailure("ci-0");
        }

        placement.Update([new Backend("ci-0"), new Backend("ci-1"), new Backend("ci-2"), new Backend("ci-3")]);

        Assert.Equal(BackendState.Unavailable, placement.Backends[0].State);
    }
}
