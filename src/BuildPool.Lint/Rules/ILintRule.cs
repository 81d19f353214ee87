namespace BuildPool.Lint.Rules;

/// <summary>One cache rule: a pure function from a parsed Dockerfile (and what is known of its context) to findings.</summary>
internal interface ILintRule
{
    IEnumerable<Finding> Check(LintInput input);
}
