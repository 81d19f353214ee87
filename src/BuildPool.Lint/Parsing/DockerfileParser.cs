using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BuildPool.Lint.Parsing;

/// <summary>
/// Reads a Dockerfile the way BuildKit's Dockerfile frontend does, keeping every instruction's line
/// numbers: parser directives, comments, line continuations (with the file's escape character),
/// here-documents, flags, JSON (exec) and shell forms, ARG/ENV assignments.
/// </summary>
public static partial class DockerfileParser
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
        "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    };

    private static readonly HashSet<string> HeredocKeywords = new(StringComparer.OrdinalIgnoreCase) { "RUN", "COPY", "ADD" };

    private static readonly HashSet<string> ExecFormKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME",
    };

    public static Dockerfile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var (directives, at) = ReadDirectives(lines);
        var escape = directives.Escape;
        var instructions = new List<Instruction>();
        var sawFrom = false;
        while (at < lines.Length)
        {
            if (IsBlankOrComment(lines[at]))
            {
                at++;
                continue;
            }

            var start = at;
            var logical = new StringBuilder();
            var end = at;
            while (true)
            {
                end = at;
                var (content, continues) = StripContinuation(lines[at], escape);
                logical.Append(content);
                at++;
                if (!continues)
                {
                    break;
                }

                // Comment and empty lines inside a continued instruction are dropped, as BuildKit does.
                while (at < lines.Length && IsBlankOrComment(lines[at]))
                {
                    at++;
                }

                if (at >= lines.Length)
                {
                    break;
                }
            }

            var instruction = Build(logical.ToString(), start + 1, end + 1, escape, lines, ref at);
            sawFrom |= instruction.Is("FROM");
            if (!sawFrom && !instruction.Is("ARG"))
            {
                throw new DockerfileParseException(instruction.Line, $"line {instruction.Line}: {instruction.Keyword} before the first FROM (only ARG may come before it)");
            }

            instructions.Add(instruction);
        }

        if (!sawFrom)
        {
            throw new DockerfileParseException(0, "no FROM instruction: a Dockerfile starts a stage with FROM");
        }

        return new Dockerfile(directives, instructions);
    }

    /// <summary>Directives come first; the first line that is not one ends them, as in BuildKit.</summary>
    private static (ParserDirectives Directives, int Next) ReadDirectives(string[] lines)
    {
        var directives = ParserDirectives.Default;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var at = 0;
        for (; at < lines.Length; at++)
        {
            var match = DirectivePattern().Match(lines[at]);
            if (!match.Success)
            {
                break;
            }

            var name = match.Groups[1].Value.ToLowerInvariant();
            var value = match.Groups[2].Value;
            if (name is not ("syntax" or "escape" or "check"))
            {
                break;
            }

            if (!seen.Add(name))
            {
                throw new DockerfileParseException(at + 1, $"line {at + 1}: the {name} parser directive can be used only once");
            }

            directives = name switch
            {
                "syntax" => directives with { Syntax = value },
                "check" => directives with { Check = value },
                _ => directives with { Escape = value is "\\" or "`" ? value[0] : throw new DockerfileParseException(at + 1, $"line {at + 1}: invalid escape character {value} (use \\ or `)") },
            };
        }

        return (directives, at);
    }

    private static bool IsBlankOrComment(string line)
    {
        var trimmed = line.TrimStart();
        return trimmed.Length == 0 || trimmed[0] == '#';
    }

    private static (string Content, bool Continues) StripContinuation(string line, char escape)
    {
        var trimmed = line.TrimEnd(' ', '\t');
        return trimmed.Length > 0 && trimmed[^1] == escape ? (trimmed[..^1], true) : (line, false);
    }

    private static Instruction Build(string logical, int line, int endLine, char escape, string[] lines, ref int at)
    {
        var text = logical.Trim();
        var space = IndexOfWhitespace(text, 0);
        var keyword = (space < 0 ? text : text[..space]).ToUpperInvariant();
        if (!Keywords.Contains(keyword))
        {
            throw new DockerfileParseException(line, $"line {line}: unknown instruction {(space < 0 ? text : text[..space])}");
        }

        var rest = space < 0 ? "" : text[space..].TrimStart();
        var flags = new List<InstructionFlag>();
        while (rest.StartsWith("--", StringComparison.Ordinal) && rest.Length > 2 && char.IsLetter(rest[2]))
        {
            var endOfFlag = EndOfWord(rest);
            var flag = rest[2..endOfFlag];
            var eq = flag.IndexOf('=', StringComparison.Ordinal);
            flags.Add(eq < 0 ? new InstructionFlag(flag, null) : new InstructionFlag(flag[..eq], Unquote(flag[(eq + 1)..])));
            rest = rest[endOfFlag..].TrimStart();
        }

        var heredocs = new List<Heredoc>();
        if (HeredocKeywords.Contains(keyword))
        {
            foreach (Match marker in HeredocPattern().Matches(rest))
            {
                if (InsideQuotes(rest, marker.Index))
                {
                    continue;
                }

                var name = marker.Groups[3].Value;
                var strip = marker.Groups[1].Value == "-";
                var bodyLine = at + 1;
                var body = new StringBuilder();
                while (true)
                {
                    if (at >= lines.Length)
                    {
                        throw new DockerfileParseException(line, $"line {line}: here-document <<{name} has no line {name} to end it");
                    }

                    var current = strip ? lines[at].TrimStart('\t') : lines[at];
                    at++;
                    if (current == name)
                    {
                        break;
                    }

                    body.Append(current).Append('\n');
                }

                endLine = at;
                heredocs.Add(new Heredoc(name, body.ToString(), strip, marker.Groups[2].Value.Length > 0, bodyLine));
            }
        }

        IReadOnlyList<string>? exec = null;
        if (ExecFormKeywords.Contains(keyword) && rest.StartsWith('['))
        {
            exec = TryJsonArray(rest);
        }

        var assignments = keyword switch
        {
            "ARG" => ShellWords.Split(rest, escape).Select(w => w.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0 ? new Assignment(w[..eq], w[(eq + 1)..]) : new Assignment(w, null)).ToList(),
            "ENV" or "LABEL" => KeyValues(rest, escape),
            _ => [],
        };
        return new Instruction(keyword, line, endLine, flags, rest, exec, heredocs, assignments);
    }

    private static List<Assignment> KeyValues(string rest, char escape)
    {
        var words = ShellWords.Split(rest, escape);
        if (words.Count > 0 && !words[0].Contains('=', StringComparison.Ordinal))
        {
            // The legacy form: ENV NAME the rest of the line is the value.
            var name = words[0];
            var value = rest[(rest.IndexOf(name, StringComparison.Ordinal) + name.Length)..].Trim();
            return [new Assignment(name, value)];
        }

        return words.Select(w => w.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0 ? new Assignment(w[..eq], w[(eq + 1)..]) : new Assignment(w, null)).ToList();
    }

    private static IReadOnlyList<string>? TryJsonArray(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind != JsonValueKind.Array || json.RootElement.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            {
                return null;
            }

            return json.RootElement.EnumerateArray().Select(e => e.GetString()!).ToList();
        }
        catch (JsonException)
        {
            // Not JSON: BuildKit runs it in the shell form.
            return null;
        }
    }

    private static int IndexOfWhitespace(string text, int from)
    {
        for (var i = from; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static int EndOfWord(string text)
    {
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (char.IsWhiteSpace(c))
            {
                return i;
            }
        }

        return text.Length;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;

    private static bool InsideQuotes(string text, int index)
    {
        char quote = '\0';
        for (var i = 0; i < index; i++)
        {
            if (quote != '\0')
            {
                quote = text[i] == quote ? '\0' : quote;
            }
            else if (text[i] is '"' or '\'')
            {
                quote = text[i];
            }
        }

        return quote != '\0';
    }

    [GeneratedRegex(@"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")]
    private static partial Regex DirectivePattern();

    [GeneratedRegex(@"(?<![<\w])<<(-?)([""']?)([A-Za-z_][A-Za-z0-9_]*)\2")]
    private static partial Regex HeredocPattern();
}
