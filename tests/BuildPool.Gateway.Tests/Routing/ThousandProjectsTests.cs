using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Tests.Routing;

/// <summary>The placement half of issue 4's "Done when": 4 builders, 1,000 projects × 3 builds.</summary>
public sealed class ThousandProjectsTests
{
    private const int Projects = 1000;
    private const int BuildsPerProject = 3;

    private static readonly Backend[] Builders = [new("ci-0"), new("ci-1"), new("ci-2"), new("ci-3")];

    private static string Project(int i) => $"registry.test/org/project-{i:D4}";

    private static Placement Pool(IEnumerable<Backend> builders)
    {
        var placement = new Placement(new PlacementOptions());
        placement.Update(builders);
        return placement;
    }

    [Fact]
    public void Every_repeat_of_a_project_reaches_the_same_builder()
    {
        var placement = Pool(Builders);
        var home = new Dictionary<string, string>();

        for (var round = 0; round < BuildsPerProject; round++)
        {
            for (var p = 0; p < Projects; p++)
            {
                var decision = placement.Place(Project(p));
                using var build = placement.Track(decision.Backend!.Id);
                Assert.Equal(PlacementOutcome.Hashed, decision.Outcome);
                Assert.Equal(home.TryAdd(Project(p), decision.Backend.Id) ? decision.Backend.Id : home[Project(p)], decision.Backend.Id);
            }
        }

        // Sticky is only useful if it also spreads: every builder serves a fair share of projects.
        Assert.All(home.Values.GroupBy(id => id), g => Assert.InRange(g.Count(), 150, 350));
    }

    [Fact]
    public void The_busiest_builder_holds_at_most_one_and_a_quarter_times_the_mean_when_all_builds_run_at_once()
    {
        var placement = Pool(Builders);
        var running = new List<PlacementLoad>();

        for (var round = 0; round < BuildsPerProject; round++)
        {
            for (var p = 0; p < Projects; p++)
            {
                running.Add(placement.Track(placement.Place(Project(p)).Backend!.Id));
            }
        }

        var busiest = Builders.Max(b => placement.LoadOn(b.Id));
        Assert.True(busiest <= (int)Math.Ceiling(1.25 * Projects * BuildsPerProject / Builders.Length), $"busiest builder holds {busiest}");
        running.ForEach(r => r.Dispose());
    }

    [Fact]
    public void Removing_one_builder_moves_only_its_projects()
    {
        var placement = Pool(Builders);
        var before = Enumerable.Range(0, Projects).ToDictionary(Project, p => placement.Place(Project(p)).Backend!.Id);

        placement.Update(Builders.Where(b => b.Id != "ci-2"));

        var moved = before.Where(pair => placement.Place(pair.Key).Backend!.Id != pair.Value).ToList();
        Assert.All(moved, pair => Assert.Equal("ci-2", pair.Value));
        Assert.Equal(before.Count(pair => pair.Value == "ci-2"), moved.Count);
    }
}
