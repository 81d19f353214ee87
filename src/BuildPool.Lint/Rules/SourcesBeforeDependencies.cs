using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Rules;

/// <summary>
/// <c>COPY . .</c> followed by a dependency install of an ecosystem that was not installed before
/// the copy (in this stage or the stages it is built from): any source edit re-runs the install.
/// </summary>
internal sealed class SourcesBeforeDependencies : ILintRule
{
    public const string Id = "sources-before-dependencies";

    public IEnumerable<Finding> Check(LintInput input)
    {
        var resolvedAtEnd = new Dictionary<int, HashSet<string>>();
        foreach (var stage in input.File.Stages)
        {
            var parent = input.File.StageNamed(stage.BaseImage, stage.Index);
            var resolved = parent is not null ? new HashSet<string>(resolvedAtEnd[parent.Index], StringComparer.Ordinal) : new HashSet<string>(StringComparer.Ordinal);
            var copies = new List<(Instruction Copy, HashSet<string> ResolvedBefore)>();
            var reported = new HashSet<Instruction>();
            foreach (var instruction in stage.Instructions)
            {
                if (CopySources.CopiesWholeContext(instruction, input.Escape))
                {
                    copies.Add((instruction, new HashSet<string>(resolved, StringComparer.Ordinal)));
                    continue;
                }

                if (!instruction.Is("RUN"))
                {
                    continue;
                }

                foreach (var command in PackageManagers.In(instruction, input.Escape).Where(c => c.ResolvesDependencies))
                {
                    foreach (var (copy, _) in copies.Where(c => !c.ResolvedBefore.Contains(command.Manager.Ecosystem) && !reported.Contains(c.Copy)).ToList())
                    {
                        reported.Add(copy);
                        yield return new Finding(
                            Id,
                            Severity.Warning,
                            copy.Line,
                            $"the whole build context is copied before `{command.Text}` (line {instruction.Line}) installs dependencies",
                            $"any change to any file in the context re-runs `{command.Text}` and every step after it: dependencies are downloaded and installed again on every source edit",
                            $"copy only the dependency manifests first ({Manifests(command.Manager.Ecosystem)}), run the install, then `COPY . .` for the sources");
                    }

                    resolved.Add(command.Manager.Ecosystem);
                }
            }

            resolvedAtEnd[stage.Index] = resolved;
        }
    }

    private static string Manifests(string ecosystem) => ecosystem switch
    {
        "node" => "package.json and the lock file",
        "go" => "go.mod and go.sum",
        "python" => "requirements.txt, or pyproject.toml and the lock file",
        "maven" => "pom.xml",
        "gradle" => "build.gradle(.kts), settings.gradle(.kts) and gradle/",
        "dotnet" => "the *.csproj files, Directory.*.props and NuGet.config",
        "rust" => "Cargo.toml and Cargo.lock",
        "ruby" => "Gemfile and Gemfile.lock",
        "php" => "composer.json and composer.lock",
        _ => "the dependency manifests",
    };
}
