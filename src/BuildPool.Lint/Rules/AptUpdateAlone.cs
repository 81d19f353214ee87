namespace BuildPool.Lint.Rules;

/// <summary><c>apt-get update</c> (or <c>apk update</c>) in a RUN that installs nothing: its layer is cached forever with the day's index.</summary>
internal sealed class AptUpdateAlone : ILintRule
{
    public const string Id = "apt-update-alone";

    public IEnumerable<Finding> Check(LintInput input)
    {
        foreach (var run in input.Runs)
        {
            var commands = PackageManagers.In(run, input.Escape);
            var update = commands.FirstOrDefault(c => c.IndexUpdate);
            if (update is not null && !commands.Any(c => c.Manager == update.Manager && !c.IndexUpdate))
            {
                yield return new Finding(
                    Id,
                    Severity.Warning,
                    run.Line,
                    $"`{update.Text}` runs in a step of its own",
                    "the step is cached with the package index of the day it first ran; later install steps use that stale index (old versions, 404s for removed packages) until something above it changes",
                    $"update and install in one RUN: `{update.Text} && {(update.Manager == PackageManagers.Apt ? "apt-get install -y …" : "apk add …")}`");
            }
        }
    }
}
