namespace BuildPool.Lint.Parsing;

/// <summary>
/// One instruction with the lines it spans (1-based; <see cref="EndLine"/> includes continuation
/// lines and here-document bodies). <see cref="Arguments"/> is the text after the flags with line
/// continuations joined; <see cref="ExecForm"/> is set when that text is a JSON array.
/// </summary>
public sealed record Instruction(
    string Keyword,
    int Line,
    int EndLine,
    IReadOnlyList<InstructionFlag> Flags,
    string Arguments,
    IReadOnlyList<string>? ExecForm,
    IReadOnlyList<Heredoc> Heredocs,
    IReadOnlyList<Assignment> Assignments)
{
    public bool Is(string keyword) => string.Equals(Keyword, keyword, StringComparison.OrdinalIgnoreCase);

    /// <summary>A flag's value: empty for a flag without one (<c>--link</c>), null when the flag is absent.</summary>
    public string? Flag(string name) => Flags.FirstOrDefault(f => f.Name == name) is { } flag ? flag.Value ?? "" : null;

    public IEnumerable<Mount> Mounts => Flags.Where(f => f.Name == "mount" && f.Value is not null).Select(f => Mount.Parse(f.Value!));
}
