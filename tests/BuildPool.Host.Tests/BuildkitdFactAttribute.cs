namespace BuildPool.Host.Tests;

/// <summary>A fact that needs a real buildkitd binary, named by BUILDPOOL_TEST_BUILDKITD; skipped with instructions otherwise.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BuildkitdFactAttribute : FactAttribute
{
    public const string Variable = "BUILDPOOL_TEST_BUILDKITD";

    public BuildkitdFactAttribute()
    {
        if (Path is null)
        {
            Skip = $"no real buildkitd: set {Variable} to a buildkitd binary (https://github.com/moby/buildkit/releases; as root, or with rootlesskit on PATH) to run make run's builders with the real daemon";
        }
    }

    public static string? Path => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path && File.Exists(path) ? path : null;
}
