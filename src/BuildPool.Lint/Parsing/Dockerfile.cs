namespace BuildPool.Lint.Parsing;

/// <summary>A parsed Dockerfile: directives, every instruction in order, and the same instructions grouped into stages.</summary>
public sealed class Dockerfile
{
    public Dockerfile(ParserDirectives directives, IReadOnlyList<Instruction> instructions)
    {
        ArgumentNullException.ThrowIfNull(directives);
        ArgumentNullException.ThrowIfNull(instructions);
        Directives = directives;
        Instructions = instructions;
        GlobalArgs = instructions.TakeWhile(i => !i.Is("FROM")).ToList();
        var stages = new List<Stage>();
        foreach (var from in instructions.Where(i => i.Is("FROM")))
        {
            var words = ShellWords.Split(from.Arguments, directives.Escape);
            var name = words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
            var body = instructions.SkipWhile(i => i != from).Skip(1).TakeWhile(i => !i.Is("FROM")).ToList();
            stages.Add(new Stage(stages.Count, name, words.Count > 0 ? words[0] : "", from, body));
        }

        Stages = stages;
    }

    public ParserDirectives Directives { get; }

    public IReadOnlyList<Instruction> Instructions { get; }

    /// <summary>The ARGs before the first FROM: they are in scope for FROM lines only.</summary>
    public IReadOnlyList<Instruction> GlobalArgs { get; }

    public IReadOnlyList<Stage> Stages { get; }

    /// <summary>The earlier stage a FROM names (<c>FROM build</c>, <c>FROM 0</c>), or null for an image.</summary>
    public Stage? StageNamed(string reference, int before)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return Stages.Take(before).FirstOrDefault(s =>
            string.Equals(s.Name, reference, StringComparison.OrdinalIgnoreCase) || s.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) == reference);
    }
}
