namespace BuildPool.Lint.Rules;

/// <summary><c>COPY . .</c> in a build context with no <c>.dockerignore</c>.</summary>
internal sealed class CopyAllWithoutDockerignore : ILintRule
{
    public const string Id = "copy-all-without-dockerignore";

    public IEnumerable<Finding> Check(LintInput input)
    {
        if (input.ContextHasDockerignore is not false)
        {
            yield break;
        }

        foreach (var copy in input.StageInstructions.Where(i => CopySources.CopiesWholeContext(i, input.Escape)))
        {
            yield return new Finding(
                Id,
                Severity.Warning,
                copy.Line,
                $"{copy.Keyword} copies the whole build context and the context has no .dockerignore",
                "everything is sent and hashed (.git, node_modules, build output, local env files): a commit, a local build or an editor's temporary file changes the context and re-runs this step and every later one",
                "add a .dockerignore next to the context (or <Dockerfile>.dockerignore next to the Dockerfile) listing .git, build output and dependency folders");
        }
    }
}
