namespace BuildPool.Lint.Rules;

/// <summary>
/// apt's cache directories mounted without <c>sharing=locked</c>: apt takes a lock file in them, so
/// two builds on one builder at once (a shared BuildPool volume) fail or wait on each other's lock.
/// </summary>
internal sealed class AptCacheSharing : ILintRule
{
    public const string Id = "apt-cache-sharing";

    public IEnumerable<Finding> Check(LintInput input)
    {
        foreach (var run in input.Runs)
        {
            if (!PackageManagers.In(run, input.Escape).Any(c => c.Manager == PackageManagers.Apt))
            {
                continue;
            }

            var unlocked = run.Mounts.Where(m => m.Type == "cache" && m.Target is not null && PackageManagers.Apt.IsCoveredBy(m.Target) && m.Sharing != "locked").ToList();
            if (unlocked.Count > 0)
            {
                yield return new Finding(
                    Id,
                    Severity.Warning,
                    run.Line,
                    $"apt's cache mount at {string.Join(", ", unlocked.Select(m => m.Target))} is shared without sharing=locked",
                    "two builds running at once on the same builder both take apt's lock in the shared directory: one fails with \"Could not get lock\" or corrupts the other's download",
                    "add sharing=locked to each apt cache mount: --mount=type=cache,target=/var/cache/apt,sharing=locked");
            }
        }
    }
}
