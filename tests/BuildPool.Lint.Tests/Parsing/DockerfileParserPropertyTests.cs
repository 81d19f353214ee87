using System.Text;
using BuildPool.Lint.Parsing;
using CsCheck;

namespace BuildPool.Lint.Tests.Parsing;

/// <summary>
/// Renders random instructions with random continuations, comments and blank lines, parses them
/// back and checks that nothing but the layout changed: keywords, flags, words and line numbers.
/// </summary>
public sealed class DockerfileParserPropertyTests
{
    private static readonly Gen<string> Word = Gen.String[Gen.Char["abcxyzABC0129/._:=$-"], 1, 8].Where(w => !w.StartsWith('-'));

    private static readonly Gen<string> WindowsWord = Gen.String[Gen.Char["abcXYZ09\\:._"], 1, 8];

    private static readonly Gen<(string Keyword, string[] Flags, string[] Words, int[] Breaks, int BlankLines)> Instruction =
        Gen.Select(
            Gen.OneOf("RUN", "COPY", "WORKDIR", "CMD", "LABEL", "EXPOSE", "USER"),
            Gen.OneOf("--link", "--from=build", "--mount=type=cache,target=/root/.npm", "--chown=1:1").Array[0, 2],
            Word.Array[1, 6],
            Gen.Int[0, 5].Array[0, 3],
            Gen.Int[0, 2]);

    [Fact]
    public void Instructions_survive_any_layout_of_continuations_comments_and_blank_lines() =>
        Instruction.Array[1, 8].Sample(instructions => RoundTrip(instructions, '\\'));

    [Fact]
    public void With_the_backtick_escape_backslashes_in_words_are_kept() =>
        Gen.Select(Gen.OneOf("RUN", "COPY", "WORKDIR"), WindowsWord.Array[1, 5], Gen.Int[0, 4].Array[0, 3])
            .Select(t => (t.Item1, Array.Empty<string>(), t.Item2, t.Item3, 0))
            .Array[1, 5]
            .Sample(instructions => RoundTrip(instructions, '`'));

    [Fact]
    public void Here_document_bodies_come_back_byte_for_byte_and_later_lines_keep_their_numbers() =>
        Gen.String[Gen.Char[" \t#\\abcEOF$<>'\""], 0, 12].Where(l => l != "EOF").Array[0, 6].Sample(body =>
        {
            var text = "FROM alpine\nRUN <<EOF\n" + string.Concat(body.Select(l => l + "\n")) + "EOF\nUSER 1000\n";
            var file = DockerfileParser.Parse(text);
            Assert.Equal(string.Concat(body.Select(l => l + "\n")), Assert.Single(file.Instructions[1].Heredocs).Body);
            Assert.Equal(4 + body.Length, file.Instructions[2].Line);
        });

    private static void RoundTrip((string Keyword, string[] Flags, string[] Words, int[] Breaks, int BlankLines)[] instructions, char escape)
    {
        var text = new StringBuilder(escape == '\\' ? "" : "# escape=`\n");
        var line = escape == '\\' ? 1 : 2;
        text.Append("FROM alpine:3.20\n");
        line++;
        var expected = new List<(string Keyword, string Flags, string Words, int Line, int EndLine)>();
        foreach (var (keyword, flags, words, breaks, blanks) in instructions)
        {
            for (var i = 0; i < blanks; i++)
            {
                text.Append(i % 2 == 0 ? "\n" : "# a comment\n");
                line++;
            }

            var start = line;
            var tokens = flags.Concat(words).ToList();
            text.Append(keyword);
            for (var i = 0; i < tokens.Count; i++)
            {
                // Break before some tokens: an escape at the end of the line, the token indented on the next.
                if (breaks.Contains(i))
                {
                    text.Append(' ').Append(escape).Append('\n').Append("    ");
                    line++;
                }
                else
                {
                    text.Append(' ');
                }

                text.Append(tokens[i]);
            }

            text.Append('\n');
            expected.Add((keyword, string.Join(' ', flags), string.Join(' ', words), start, line));
            line++;
        }

        var file = DockerfileParser.Parse(text.ToString());
        var actual = file.Instructions.Skip(1)
            .Select(i => (i.Keyword, string.Join(' ', i.Flags.Select(f => "--" + f.Name + (f.Value is null ? "" : "=" + f.Value))), string.Join(' ', i.Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)), i.Line, i.EndLine))
            .ToList();
        Assert.Equal(expected, actual);
    }
}
