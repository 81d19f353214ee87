using BuildPool.Operator.Rendering;

namespace BuildPool.Operator.Tests.Rendering;

public class BuildkitdConfigGoldenTests
{
    private static string Dir => GoldenFiles.Directory("buildkitd");

    public static TheoryData<string> Cases => new(BuildkitdGoldenCases.All.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rendered_file_matches_the_golden_file(string name)
    {
        var actual = BuildkitdConfigRenderer.Render(BuildkitdGoldenCases.All[name]).Toml;
        GoldenFiles.AssertMatches("buildkitd", name + ".toml", actual);
    }

    [Fact]
    public void Every_golden_file_belongs_to_a_case()
    {
        GoldenFiles.AssertEveryFileHasACase("buildkitd", ".toml", BuildkitdGoldenCases.All.Keys);
    }

    [Fact]
    public void Every_golden_file_is_sane_toml()
    {
        var files = System.IO.Directory.GetFiles(Dir, "*.toml");
        Assert.NotEmpty(files);
        var problems = files
            .SelectMany(f => TomlSanityChecker.Check(File.ReadAllText(f)).Select(p => $"{Path.GetFileName(f)} {p}"))
            .ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rendered_file_is_sane_toml(string name)
    {
        var toml = BuildkitdConfigRenderer.Render(BuildkitdGoldenCases.All[name]).Toml;
        Assert.Empty(TomlSanityChecker.Check(toml));
    }
}
