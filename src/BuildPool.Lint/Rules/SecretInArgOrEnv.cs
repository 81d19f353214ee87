namespace BuildPool.Lint.Rules;

/// <summary>An ARG or ENV whose name says it holds a credential.</summary>
internal sealed class SecretInArgOrEnv : ILintRule
{
    public const string Id = "secret-in-arg-env";

    public IEnumerable<Finding> Check(LintInput input)
    {
        foreach (var instruction in input.File.Instructions.Where(i => i.Is("ARG") || i.Is("ENV")))
        {
            foreach (var assignment in instruction.Assignments.Where(a => SecretNames.IsSecretName(a.Name)))
            {
                var env = instruction.Is("ENV");
                yield return new Finding(
                    Id,
                    Severity.Error,
                    instruction.Line,
                    $"{instruction.Keyword} {assignment.Name} passes a secret {(env ? "into the image's environment" : "as a build argument")}",
                    env
                        ? "the value is stored in the image config and every layer's cache key: anyone who can pull the image or read the builder's cache reads it, and rotating it invalidates every later step"
                        : "build argument values are in the cache key of every RUN after the ARG and in the image history (docker history, provenance): rotating the secret re-runs those steps, and the value can be read back",
                    $"pass it with `docker buildx build --secret id={assignment.Name.ToLowerInvariant()},env={assignment.Name}` and read it in the step that needs it: RUN --mount=type=secret,id={assignment.Name.ToLowerInvariant()},env={assignment.Name} …");
            }
        }
    }
}
