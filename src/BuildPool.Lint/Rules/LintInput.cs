using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Rules;

/// <summary>What the rules look at: the Dockerfile and whether its build context has a <c>.dockerignore</c> (null: not known).</summary>
internal sealed record LintInput(Dockerfile File, bool? ContextHasDockerignore)
{
    public char Escape => File.Directives.Escape;

    /// <summary>Every instruction after a FROM, in order (the global ARGs only feed FROM lines).</summary>
    public IEnumerable<Instruction> StageInstructions => File.Stages.SelectMany(s => s.Instructions);

    public IEnumerable<Instruction> Runs => StageInstructions.Where(i => i.Is("RUN"));
}
