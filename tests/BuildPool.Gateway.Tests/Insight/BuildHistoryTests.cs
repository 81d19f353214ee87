using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Insight;

namespace BuildPool.Gateway.Tests.Insight;

/// <summary>The gateway's memory of past builds stays bounded however many keys and builds come.</summary>
public sealed class BuildHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static PastBuild Build(string reference, int steps = 3) =>
        new(reference, "builder-0", T0, [
            new StatusVertex("ctx", "[internal] load build context", [], false, null, null, false),
            .. Enumerable.Range(1, steps).Select(i => new StatusVertex($"d{i}", $"[{i}/{steps}] RUN step {i}", ["ctx"], true, null, null, false)),
        ]);

    [Fact]
    public void A_key_keeps_its_newest_builds_first_without_internal_steps_or_inputs()
    {
        var history = new BuildHistory();
        for (var i = 0; i < BuildHistory.BuildsPerKey + 2; i++)
        {
            history.Add("app", Build("ref-" + i));
        }

        var builds = history.Of("app");

        Assert.Equal(Enumerable.Range(2, BuildHistory.BuildsPerKey).Reverse().Select(i => "ref-" + i), builds.Select(b => b.Ref));
        Assert.All(builds, b => Assert.Equal(["[1/3] RUN step 1", "[2/3] RUN step 2", "[3/3] RUN step 3"], b.Steps.Select(s => s.Name)));
        Assert.All(builds.SelectMany(b => b.Steps), s => Assert.Empty(s.Inputs));
        Assert.Equal(3 * BuildHistory.BuildsPerKey, history.StepCount);
    }

    [Fact]
    public void The_least_recently_built_key_is_forgotten_first()
    {
        var history = new BuildHistory();
        for (var i = 0; i < BuildHistory.MaxKeys; i++)
        {
            history.Add("key-" + i, Build("r"));
        }

        history.Add("key-0", Build("again"));
        history.Add("new", Build("r"));

        Assert.Equal(BuildHistory.MaxKeys, history.KeyCount);
        Assert.Empty(history.Of("key-1"));
        Assert.Equal(["again", "r"], history.Of("key-0").Select(b => b.Ref));
        Assert.Single(history.Of("new"));
    }

    [Fact]
    public void Large_builds_are_cut_and_the_total_of_steps_is_bounded()
    {
        var history = new BuildHistory();
        for (var i = 0; i < 500; i++)
        {
            history.Add("key-" + i, Build("r", steps: BuildHistory.MaxSteps + 50));
        }

        Assert.Equal(BuildHistory.MaxSteps, history.Of("key-499")[0].Steps.Count);
        Assert.True(history.StepCount <= BuildHistory.MaxTotalSteps, $"{history.StepCount} steps kept");
        Assert.Equal(BuildHistory.MaxTotalSteps / BuildHistory.MaxSteps, history.KeyCount);
    }

    [Fact]
    public void Prunes_are_kept_per_builder_in_time_order_once_each_and_bounded()
    {
        var history = new BuildHistory();
        for (var i = BuildHistory.PrunesPerBuilder + 2; i > 0; i--)
        {
            history.Pruned("builder-0", new PruneRecord(T0.AddMinutes(i), "p" + i));
        }

        history.Pruned("builder-0", new PruneRecord(T0.AddMinutes(3), "the same moment again"));

        var prunes = history.PrunesOf("builder-0");
        Assert.Equal(Enumerable.Range(3, BuildHistory.PrunesPerBuilder).Select(i => T0.AddMinutes(i)), prunes.Select(p => p.At));
        Assert.Equal("p3", prunes[0].Source);
        Assert.Empty(history.PrunesOf("builder-1"));
    }
}
