namespace BuildPool.Operator.Tests.Rendering;

public class TomlSanityCheckerTests
{
    [Fact]
    public void A_well_formed_file_passes()
    {
        const string Toml = """
            # comment
            [grpc]
              address = ["tcp://0.0.0.0:1234", "unix:///run/buildkit.sock"] # trailing
            [worker.oci]
              gc = true
              keepBytes = 1024
              [[worker.oci.gcpolicy]]
                filters = ["type==source.local"]
              [[worker.oci.gcpolicy]]
                filters = []
            [registry."docker.io"]
              mirrors = ["a \"quoted\" \\ path \u00e9"]
            """;
        Assert.Empty(TomlSanityChecker.Check(Toml));
    }

    [Theory]
    [InlineData("[a]\nx = \"open", "unterminated string")]
    [InlineData("[a]\n[a]", "defined twice")]
    [InlineData("[a]\nx = 1\nx = 2", "set twice")]
    [InlineData("[[a]]\n[a]", "defined twice")]
    [InlineData("[a]\n[[a]]", "already defined as a table")]
    [InlineData("[a]\nx = 1.5", "unexpected value")]
    [InlineData("[a]\nx = \"bad \\q escape\"", "invalid escape")]
    [InlineData("[a]\nx = \"a\" \"b\"", "unexpected text")]
    [InlineData("[a\nx = 1", "expected ']'")]
    [InlineData("[registry.\"docker.io]\n", "unterminated string")]
    public void Broken_files_are_reported(string toml, string expected)
    {
        var problems = TomlSanityChecker.Check(toml);
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Keys_repeat_freely_across_elements_of_an_array_of_tables() =>
        Assert.Empty(TomlSanityChecker.Check("[[p]]\nx = 1\n[[p]]\nx = 2\n"));
}
