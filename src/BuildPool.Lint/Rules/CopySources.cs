using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Rules;

/// <summary>The sources and destination of a COPY or ADD, in either form.</summary>
internal static class CopySources
{
    public static (IReadOnlyList<string> Sources, string? Destination) Of(Instruction copy, char escape)
    {
        var words = copy.ExecForm ?? ShellWords.Split(copy.Arguments, escape);
        return words.Count < 2 ? ([], words.Count == 1 ? words[0] : null) : (words.Take(words.Count - 1).ToList(), words[^1]);
    }

    /// <summary>A COPY or ADD of the whole build context (<c>COPY . .</c>) from the client, not from a stage or image.</summary>
    public static bool CopiesWholeContext(Instruction instruction, char escape) =>
        (instruction.Is("COPY") || instruction.Is("ADD")) && instruction.Flag("from") is null &&
        Of(instruction, escape).Sources.Any(s => s is "." or "./" or "*");
}
