using System.Text;
using System.Text.RegularExpressions;

namespace BuildPool.Host.Tests.Docs;

/// <summary>
/// Reads what a markdown page tells people to run: the logical lines of its shell code blocks
/// (continuations joined) and its links, so tests can check each against the repository.
/// </summary>
internal static partial class DocScanner
{
    /// <summary>Top-level folders of the repository: a shell word starting with one of them is a repository path.</summary>
    private static readonly string[] RepositoryFolders = ["charts", "config", "crds", "docs", "hack", "src", "tests"];

    private static readonly HashSet<string> ShellLanguages = new(StringComparer.Ordinal) { "sh", "bash", "shell", "console", "zsh" };

    /// <summary>One command line of a shell block, with the 1-based line it starts on.</summary>
    public sealed record ShellLine(int Line, string Text);

    /// <summary>A <c>buildpool</c> invocation: its subcommand and the long options it passes.</summary>
    public sealed record BuildpoolCall(int Line, string Subcommand, IReadOnlyList<string> Options);

    /// <summary>A link target as written, with the 1-based line it is on.</summary>
    public sealed record Link(int Line, string Target);

    public static IReadOnlyList<ShellLine> ShellLines(string markdown)
    {
        var result = new List<ShellLine>();
        var inBlock = false;
        var shell = false;
        string? heredocEnd = null;
        var pending = new StringBuilder();
        var pendingLine = 0;
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i].TrimEnd('\r');
            var trimmed = raw.TrimStart();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                if (!inBlock)
                {
                    inBlock = true;
                    shell = ShellLanguages.Contains(trimmed[3..].Trim());
                }
                else
                {
                    inBlock = false;
                    heredocEnd = null;
                }

                continue;
            }

            if (!inBlock || !shell)
            {
                continue;
            }

            // A here-document's body is data (a Dockerfile, YAML), not commands.
            if (heredocEnd is not null)
            {
                if (trimmed == heredocEnd)
                {
                    heredocEnd = null;
                }

                continue;
            }

            var text = WithoutComment(trimmed.StartsWith("$ ", StringComparison.Ordinal) ? trimmed[2..] : trimmed);
            if (pending.Length == 0)
            {
                pendingLine = i + 1;
            }

            if (text.EndsWith('\\'))
            {
                pending.Append(text[..^1].TrimEnd()).Append(' ');
                continue;
            }

            pending.Append(text);
            var logical = pending.ToString().Trim();
            pending.Clear();
            if (logical.Length > 0)
            {
                result.Add(new ShellLine(pendingLine, logical));
            }

            if (Heredoc().Match(logical) is { Success: true } heredoc)
            {
                heredocEnd = heredoc.Groups[1].Value;
            }
        }

        return result;
    }

    /// <summary>
    /// <c>buildpool &lt;subcommand&gt;</c> at a command position, or the same through
    /// <c>dotnet run --project src/BuildPool.Host ... -- &lt;subcommand&gt;</c>.
    /// </summary>
    public static IEnumerable<BuildpoolCall> BuildpoolCalls(ShellLine line)
    {
        foreach (var command in Commands(line.Text))
        {
            var words = Words(command);
            var at = words.Count > 0 && words[0] == "buildpool" ? 1 : -1;
            if (at < 0 && words.Count > 3 && words[0] == "dotnet" && words[1] == "run"
                && words.Any(w => w.StartsWith("src/BuildPool.Host", StringComparison.Ordinal)) && words.IndexOf("--") is var dashes and > 0)
            {
                at = dashes + 1;
            }

            if (at < 0 || at >= words.Count)
            {
                continue;
            }

            var options = words.Skip(at + 1)
                .Where(w => w.StartsWith("--", StringComparison.Ordinal) && w.Length > 2)
                .Select(w => w.Split('=', 2)[0])
                .ToList();
            yield return new BuildpoolCall(line.Line, words[at], options);
        }
    }

    /// <summary>The targets of every <c>make</c> command on the line (variable assignments left out).</summary>
    public static IEnumerable<string> MakeTargets(ShellLine line) =>
        Commands(line.Text)
            .Select(Words)
            .Where(w => w.Count > 1 && w[0] == "make")
            .SelectMany(w => w.Skip(1).TakeWhile(t => !t.StartsWith('-')).Where(t => !t.Contains('=', StringComparison.Ordinal)));

    /// <summary>Shell words that name a file or folder of the repository (<c>config/samples/x.yaml</c>, <c>charts/buildpool</c>).</summary>
    public static IEnumerable<string> RepositoryPaths(ShellLine line) =>
        Commands(line.Text)
            .SelectMany(Words)
            .Select(w => w.Contains('=', StringComparison.Ordinal) && !w.StartsWith('-') ? w[(w.IndexOf('=', StringComparison.Ordinal) + 1)..] : w)
            .Select(w => w.StartsWith("./", StringComparison.Ordinal) ? w[2..] : w)
            .Where(w => RepositoryFolders.Any(f => w == f || w.StartsWith(f + "/", StringComparison.Ordinal)))
            .Where(w => !w.Contains('<', StringComparison.Ordinal) && !w.Contains('$', StringComparison.Ordinal) && !w.Contains('*', StringComparison.Ordinal));

    /// <summary>Links and images outside code blocks, except web and mail addresses.</summary>
    public static IReadOnlyList<Link> Links(string markdown)
    {
        var result = new List<Link>();
        var inBlock = false;
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (inBlock)
            {
                continue;
            }

            foreach (Match m in MarkdownLink().Matches(InlineCode().Replace(lines[i], "``")))
            {
                var target = m.Groups[1].Value;
                if (!target.Contains("://", StringComparison.Ordinal) && !target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    result.Add(new Link(i + 1, target));
                }
            }
        }

        return result;
    }

    /// <summary>The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens.</summary>
    public static IReadOnlySet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inBlock = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                continue;
            }

            if (!inBlock && Heading().Match(line) is { Success: true } h)
            {
                var slug = new StringBuilder();
                foreach (var c in h.Groups[1].Value.Trim().ToLowerInvariant())
                {
                    if (char.IsLetterOrDigit(c) || c is '-' or '_')
                    {
                        slug.Append(c);
                    }
                    else if (c == ' ')
                    {
                        slug.Append('-');
                    }
                }

                var name = slug.ToString();
                var unique = name;
                for (var n = 1; !anchors.Add(unique); n++)
                {
                    unique = $"{name}-{n}";
                }
            }
        }

        return anchors;
    }

    // Commands joined by pipes and lists; quoted text stays inside its command.
    private static IEnumerable<string> Commands(string line)
    {
        var current = new StringBuilder();
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }

                current.Append(c);
                continue;
            }

            if (c is '\'' or '"')
            {
                quote = c;
                current.Append(c);
                continue;
            }

            if (c is '|' or ';' or '&' or '(' or ')')
            {
                yield return current.ToString().Trim();
                current.Clear();
                continue;
            }

            current.Append(c);
        }

        yield return current.ToString().Trim();
    }

    // Words of one command; environment assignments in front (KEY=value cmd) are dropped.
    private static List<string> Words(string command)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(w => w.Trim('"', '\''))
            .ToList();
        while (words.Count > 0 && EnvironmentAssignment().IsMatch(words[0]))
        {
            words.RemoveAt(0);
        }

        return words;
    }

    private static string WithoutComment(string text)
    {
        var at = text.IndexOf(" #", StringComparison.Ordinal);
        return text.StartsWith('#') ? string.Empty : at >= 0 ? text[..at].TrimEnd() : text;
    }

    [GeneratedRegex(@"<<-?\s*'?""?([A-Za-z_]+)'?""?")]
    private static partial Regex Heredoc();

    [GeneratedRegex(@"!?\[[^\]]*\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex MarkdownLink();

    // Code spans, except one that is a link's text ([`config/local`](../config/local)).
    [GeneratedRegex(@"`[^`]*`(?!\]\()")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^[A-Z_][A-Z0-9_]*=")]
    private static partial Regex EnvironmentAssignment();
}
