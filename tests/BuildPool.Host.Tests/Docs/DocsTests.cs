using System.Text.RegularExpressions;
using BuildPool.TestDoubles;

namespace BuildPool.Host.Tests.Docs;

/// <summary>
/// Keeps the docs honest: what README.md and docs/*.md tell people to run exists. Commands are
/// checked against the real executable's help, targets against the Makefile, paths and links
/// against the repository.
/// </summary>
public sealed partial class DocsTests
{
    private static readonly Lazy<Task<BuildpoolHelp>> Help = new(BuildpoolHelp.ReadAsync);

    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string> { "README.md", "charts/buildpool/README.md" };
        foreach (var page in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            pages.Add(Path.GetRelativePath(RepositoryPaths.Root, page).Replace('\\', '/'));
        }

        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Every_buildpool_command_a_page_shows_is_a_subcommand_with_those_options(string page)
    {
        var help = await Help.Value;
        var problems = new List<string>();
        foreach (var call in DocScanner.ShellLines(Read(page)).SelectMany(DocScanner.BuildpoolCalls))
        {
            if (!help.Subcommands.Contains(call.Subcommand))
            {
                problems.Add($"{page}:{call.Line}: `buildpool {call.Subcommand}` is not a command (there are: {string.Join(", ", help.Subcommands.Order(StringComparer.Ordinal))})");
                continue;
            }

            var options = await help.OptionsOfAsync(call.Subcommand);
            problems.AddRange(call.Options.Where(o => !options.Contains(o)).Select(o => $"{page}:{call.Line}: `buildpool {call.Subcommand}` has no option {o}"));
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_make_target_a_page_shows_is_in_the_Makefile(string page)
    {
        var targets = MakefileTarget().Matches(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "Makefile")))
            .Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
        var problems = DocScanner.ShellLines(Read(page))
            .SelectMany(line => DocScanner.MakeTargets(line).Where(t => !targets.Contains(t)).Select(t => $"{page}:{line.Line}: `make {t}` is not a Makefile target"))
            .ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_repository_path_a_page_shows_in_a_command_exists(string page)
    {
        var problems = new List<string>();
        foreach (var line in DocScanner.ShellLines(Read(page)))
        {
            var paths = DocScanner.RepositoryPaths(line).Concat(KubectlFileArguments(line.Text));
            problems.AddRange(paths.Distinct(StringComparer.Ordinal).Where(p => !Exists(p)).Select(p => $"{page}:{line.Line}: {p} does not exist"));
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_of_a_page_leads_to_a_file_and_heading_that_exist(string page)
    {
        var text = Read(page);
        var problems = new List<string>();
        foreach (var link in DocScanner.Links(text))
        {
            var hash = link.Target.IndexOf('#', StringComparison.Ordinal);
            var file = hash >= 0 ? link.Target[..hash] : link.Target;
            var anchor = hash >= 0 ? link.Target[(hash + 1)..] : null;
            var path = file.Length == 0 ? Path.Combine(RepositoryPaths.Root, page) : Path.GetFullPath(Path.Combine(RepositoryPaths.Root, Path.GetDirectoryName(page)!, file));
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                problems.Add($"{page}:{link.Line}: link {link.Target} leads nowhere");
                continue;
            }

            if (anchor is not null && path.EndsWith(".md", StringComparison.Ordinal) && !DocScanner.Anchors(File.ReadAllText(path)).Contains(anchor))
            {
                problems.Add($"{page}:{link.Line}: link {link.Target}: {Path.GetFileName(path)} has no heading #{anchor}");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task The_quickstart_path_is_made_of_commands_the_checks_above_see()
    {
        var lines = DocScanner.ShellLines(Read("docs/quickstart.md"));
        var commands = lines.Select(l => l.Text).ToList();

        // The steps from zero to a cached second build, in order; each is checked by the theories above.
        string[] steps =
        [
            "kind create cluster", "docker build ", "kind load docker-image", "kubectl apply -k config/local",
            "kubectl apply -f config/samples/", "kubectl wait builderpool/", "kubectl port-forward service/",
            "docker buildx create --name quickstart --driver remote tcp://", "docker buildx build", "grep CACHED",
        ];
        var at = 0;
        foreach (var step in steps)
        {
            var found = commands.FindIndex(at, c => c.Contains(step, StringComparison.Ordinal));
            Assert.True(found >= 0, $"docs/quickstart.md has no `{step}` command after line {(at < lines.Count ? lines[at].Line : 0)}");
            at = found + 1;
        }

        Assert.Contains(lines.SelectMany(DocScanner.MakeTargets), t => t == "run");
        Assert.Contains(lines.SelectMany(DocScanner.BuildpoolCalls), c => c.Subcommand == "render");
        Assert.Contains("config/local", lines.SelectMany(l => KubectlFileArguments(l.Text)));
        Assert.Contains("dev", (await Help.Value).Subcommands);
    }

    [Theory]
    [InlineData("A subcommand that does not exist", "buildpool deploy --pool ci", "deploy", "--pool")]
    [InlineData("An option after the subcommand", "buildpool gateway --listen 0.0.0.0:1234 --backend b0=tcp://h:1234", "gateway", "--listen --backend")]
    [InlineData("The dotnet run form", "dotnet run --project src/BuildPool.Host -c Release -- render -f pool.yaml", "render", "")]
    [InlineData("A command after a pipe", "cat x | buildpool render --filename=-", "render", "--filename")]
    public void The_scanner_finds_buildpool_commands(string shape, string line, string subcommand, string options)
    {
        var call = Assert.Single(DocScanner.BuildpoolCalls(new DocScanner.ShellLine(1, line)));
        Assert.True(call.Subcommand == subcommand, shape);
        Assert.Equal(options.Split(' ', StringSplitOptions.RemoveEmptyEntries), call.Options);
    }

    [Theory]
    [InlineData("helm install buildpool charts/buildpool -n buildpool-system")]
    [InlineData("kubectl -n buildpool-system get pods")]
    [InlineData("docker build -t buildpool:dev .")]
    public void Words_that_only_contain_buildpool_are_not_commands(string line) =>
        Assert.Empty(DocScanner.BuildpoolCalls(new DocScanner.ShellLine(1, line)));

    [Fact]
    public void The_scanner_joins_continuations_skips_here_documents_and_comments_and_reads_only_shell_blocks()
    {
        var markdown = string.Join('\n',
            "```sh",
            "helm install x charts/buildpool \\",
            "  --set image.tag=1   # a comment",
            "cat > /tmp/f <<'EOF'",
            "buildpool not-a-command",
            "EOF",
            "make run BENCH_ARGS=--quick",
            "```",
            "```yaml",
            "make nothing",
            "```");

        var lines = DocScanner.ShellLines(markdown);

        Assert.Equal(["helm install x charts/buildpool --set image.tag=1", "cat > /tmp/f <<'EOF'", "make run BENCH_ARGS=--quick"], lines.Select(l => l.Text));
        Assert.Equal([2, 4, 7], lines.Select(l => l.Line));
        Assert.Equal(["run"], lines.SelectMany(DocScanner.MakeTargets));
        Assert.Equal(["charts/buildpool"], lines.SelectMany(DocScanner.RepositoryPaths));
    }

    [Fact]
    public void Links_in_code_and_web_addresses_are_not_checked_and_anchors_follow_GitHub()
    {
        var markdown = "See [install](install.md#2a-install-with-kustomize), [web](https://example.test/x), `[code](nowhere.md)`.\n```\n[block](nowhere.md)\n```\n## 2a. Install with `kustomize`\n## Install\n## Install\n";

        Assert.Equal(["install.md#2a-install-with-kustomize"], DocScanner.Links(markdown).Select(l => l.Target));
        Assert.Equal(new HashSet<string> { "2a-install-with-kustomize", "install", "install-1" }, DocScanner.Anchors(markdown));
    }

    // kubectl's -f/-k/--filename/--kustomize arguments and kubectl kustomize's directory, when
    // they are relative paths with a folder (a bare pool.yaml is the reader's own file).
    private static IEnumerable<string> KubectlFileArguments(string line)
    {
        foreach (Match m in KubectlFile().Matches(line))
        {
            var path = m.Groups["path"].Value.Trim('"', '\'');
            if (path.Contains('/', StringComparison.Ordinal) && !path.StartsWith('/') && !path.StartsWith('-') && !path.Contains("://", StringComparison.Ordinal)
                && !path.Contains('$', StringComparison.Ordinal) && !path.Contains('<', StringComparison.Ordinal))
            {
                yield return path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path;
            }
        }
    }

    private static bool Exists(string relative)
    {
        var path = Path.Combine(RepositoryPaths.Root, relative);
        return File.Exists(path) || Directory.Exists(path);
    }

    private static string Read(string page) => File.ReadAllText(Path.Combine(RepositoryPaths.Root, page));

    [GeneratedRegex(@"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?!=)", RegexOptions.Multiline)]
    private static partial Regex MakefileTarget();

    [GeneratedRegex(@"\bkubectl\b[^|;&]*?(?:\s(?:-f|-k|--filename|--kustomize)[\s=]|\skustomize\s+)(?<path>\S+)")]
    private static partial Regex KubectlFile();
}
