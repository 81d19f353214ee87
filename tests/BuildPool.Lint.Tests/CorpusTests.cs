using System.Globalization;

namespace BuildPool.Lint.Tests;

/// <summary>
/// Every Dockerfile under Corpus/ is linted with its own directory as the build context, and must
/// give exactly the findings its expected.txt lists (one <c>LINE RULE</c> per line).
/// </summary>
public sealed class CorpusTests
{
    private static readonly string CorpusDirectory = Path.Combine(RepositoryRoot.Path, "tests", "BuildPool.Lint.Tests", "Corpus");

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(CorpusDirectory).Order(StringComparer.Ordinal))
        {
            cases.Add(Path.GetFileName(dir));
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Lint_finds_every_expected_finding_of_a_corpus_case_and_nothing_else(string name)
    {
        var findings = await DockerfileLinter.LintFileAsync(Path.Combine(CorpusDirectory, name, "Dockerfile"), null, CancellationToken.None);
        var actual = findings.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Line} {f.Rule}")).Order(StringComparer.Ordinal).ToList();
        var expected = (await File.ReadAllLinesAsync(Path.Combine(CorpusDirectory, name, "expected.txt")))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(expected.SequenceEqual(actual), $"{name}: expected [{string.Join(", ", expected)}] but found [{string.Join(", ", actual)}]");
    }

    [Fact]
    public async Task The_fast_layout_of_every_ecosystem_has_no_warnings()
    {
        var fast = Directory.GetDirectories(CorpusDirectory, "*-fast");
        foreach (var ecosystem in new[] { "go", "node", "python", "maven", "gradle", "dotnet" })
        {
            Assert.Contains(fast, d => Path.GetFileName(d).StartsWith(ecosystem + "-", StringComparison.Ordinal));
            Assert.Contains(Directory.GetDirectories(CorpusDirectory, ecosystem + "-slow"), d => d.Length > 0);
        }

        foreach (var dir in fast)
        {
            var findings = await DockerfileLinter.LintFileAsync(Path.Combine(dir, "Dockerfile"), null, CancellationToken.None);
            Assert.True(findings.All(f => f.Severity < Severity.Warning), $"{Path.GetFileName(dir)}: {string.Join("; ", findings.Select(f => $"{f.Line} {f.Rule}"))}");
        }
    }

    [Fact]
    public async Task The_projects_own_Dockerfile_has_no_findings()
    {
        var findings = await DockerfileLinter.LintFileAsync(Path.Combine(RepositoryRoot.Path, "Dockerfile"), null, CancellationToken.None);
        Assert.True(findings.Count == 0, string.Join("; ", findings.Select(f => $"{f.Line} {f.Rule}: {f.Message}")));
    }
}
