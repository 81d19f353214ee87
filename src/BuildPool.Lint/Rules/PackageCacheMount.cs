namespace BuildPool.Lint.Rules;

/// <summary>
/// A package manager that downloads into its cache directory, run without a cache mount there:
/// the downloads live in the layer, and when the layer is invalidated they are all fetched again.
/// A cache mount at a directory no known manager uses counts for every manager of that RUN
/// (the project pointed a manager's cache there).
/// </summary>
internal sealed class PackageCacheMount : ILintRule
{
    public const string Id = "package-cache-mount";

    public IEnumerable<Finding> Check(LintInput input)
    {
        foreach (var run in input.Runs)
        {
            var commands = PackageManagers.In(run, input.Escape);
            var targets = run.Mounts.Where(m => m.Type == "cache" && m.Target is not null).Select(m => m.Target!).ToList();
            if (targets.Any(t => !PackageManagers.All.Any(m => m.IsCoveredBy(t))))
            {
                continue;
            }

            foreach (var command in commands.Where(c => c.UsesCache && c.Manager.Caches).DistinctBy(c => c.Manager))
            {
                if (targets.Any(command.Manager.IsCoveredBy))
                {
                    continue;
                }

                yield return new Finding(
                    Id,
                    Severity.Warning,
                    run.Line,
                    $"`{command.Text}` runs without a cache mount for {command.Manager.Name}'s downloads",
                    $"whenever this step re-runs, every package is downloaded again; the downloads also end up in the image layer",
                    $"RUN {command.Manager.SuggestedMount} …; BuildPool keeps cache mounts on the builder's volume between builds");
            }
        }
    }
}
