namespace BuildPool.Lint.Parsing;

/// <summary>
/// The parser directives at the top of a Dockerfile (<c># syntax=</c>, <c># escape=</c>,
/// <c># check=</c>); <see cref="Escape"/> is <c>\</c> unless the file chose <c>`</c>.
/// </summary>
public sealed record ParserDirectives(string? Syntax, char Escape, string? Check)
{
    public static ParserDirectives Default { get; } = new(null, '\\', null);
}
