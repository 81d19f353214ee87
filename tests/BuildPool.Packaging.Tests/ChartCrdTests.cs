using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

public sealed class ChartCrdTests
{
    [Fact]
    public void The_charts_crds_are_byte_for_byte_the_generated_crds()
    {
        var chartCrds = Path.Combine(ChartPaths.Chart, "crds");
        static string[] Names(string dir) => [.. Directory.EnumerateFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

        Assert.Equal(Names(RepositoryPaths.Crds), Names(chartCrds));
        var stale = Names(RepositoryPaths.Crds)
            .Where(name => !File.ReadAllBytes(Path.Combine(RepositoryPaths.Crds, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(chartCrds, name))))
            .ToList();
        Assert.True(stale.Count == 0, $"charts/buildpool/crds differs from crds/ in {string.Join(", ", stale)}: run `make manifests`");
    }
}
