using System.Text.Json;

namespace BuildPool.Host.Tests;

/// <summary><c>buildpool lint</c> as a CI job runs it: output, JSON and exit codes.</summary>
public sealed class LintCommandTests : IDisposable
{
    private const string SlowNode = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("buildpool-lint-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Lint_of_a_directory_names_file_line_rule_cost_and_fix_and_fails_on_warnings()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.FullName, "Dockerfile"), SlowNode);
        var (code, output, error) = await Cli.RunAsync(_dir.FullName, "lint", ".");
        Assert.True(code == 1, error);
        Assert.Contains("Dockerfile:3: warning sources-before-dependencies: the whole build context is copied before `npm ci` (line 4)", output, StringComparison.Ordinal);
        Assert.Contains("Dockerfile:4: warning package-cache-mount:", output, StringComparison.Ordinal);
        Assert.Contains("    fix:  RUN --mount=type=cache,target=/root/.npm", output, StringComparison.Ordinal);
        Assert.Contains("3 warnings", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Findings_below_fail_on_are_printed_but_do_not_fail()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.FullName, "Dockerfile"), SlowNode);
        var (code, output, error) = await Cli.RunAsync(_dir.FullName, "lint", "--fail-on", "error");
        Assert.True(code == 0, error);
        Assert.Contains("sources-before-dependencies", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_lists_every_finding_with_rule_severity_and_line()
    {
        var path = Path.Combine(_dir.FullName, "app.Dockerfile");
        await File.WriteAllTextAsync(path, "FROM alpine:3.20\nARG GITHUB_TOKEN\n");
        var (code, output, error) = await Cli.RunAsync(_dir.FullName, "lint", path, "--format", "json", "--fail-on", "error");
        Assert.True(code == 1, error);
        using var json = JsonDocument.Parse(output);
        var finding = Assert.Single(json.RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal(("secret-in-arg-env", "error", 2), (finding.GetProperty("rule").GetString(), finding.GetProperty("severity").GetString(), finding.GetProperty("line").GetInt32()));
        Assert.Contains("--mount=type=secret", finding.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clean_Dockerfile_exits_0()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.FullName, "Dockerfile"), "FROM alpine:3.20\nCOPY app /app\n");
        var (code, output, error) = await Cli.RunAsync(_dir.FullName, "lint", "--fail-on", "info");
        Assert.True(code == 0, error);
        Assert.Contains("no findings", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FROM alpine\nRUNN make\n", "Dockerfile: line 2: unknown instruction RUNN", new string[0])]
    [InlineData(null, "no Dockerfile at", new string[0])]
    [InlineData("FROM alpine\n", "--format must be text or json", new[] { "--format", "xml" })]
    [InlineData("FROM alpine\n", "--fail-on must be info, warning or error", new[] { "--fail-on", "never" })]
    public async Task Input_that_cannot_be_linted_exits_2_with_one_clear_line(string? dockerfile, string message, string[] options)
    {
        if (dockerfile is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(_dir.FullName, "Dockerfile"), dockerfile);
        }

        var (code, _, error) = await Cli.RunAsync(_dir.FullName, ["lint", .. options]);
        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("buildpool lint: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }
}
