using System.Text.RegularExpressions;
using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Rules;

/// <summary>
/// An ARG whose value changes on every build (a version, date or commit) declared in a stage before
/// RUN steps that do not use it. BuildKit gives every RUN after an ARG that ARG in its environment,
/// so a new value misses the cache from the first RUN after the ARG, not from the first use.
/// </summary>
internal sealed partial class EarlyVolatileArg : ILintRule
{
    public const string Id = "early-volatile-arg";

    public IEnumerable<Finding> Check(LintInput input)
    {
        foreach (var stage in input.File.Stages)
        {
            for (var at = 0; at < stage.Instructions.Count; at++)
            {
                var arg = stage.Instructions[at];
                if (!arg.Is("ARG"))
                {
                    continue;
                }

                foreach (var name in arg.Assignments.Select(a => a.Name).Where(IsVolatile))
                {
                    var later = stage.Instructions.Skip(at + 1).ToList();
                    var firstUse = later.FindIndex(i => Uses(i, name));
                    var wasted = (firstUse < 0 ? later : later.Take(firstUse)).Where(i => i.Is("RUN")).ToList();
                    if (wasted.Count == 0)
                    {
                        continue;
                    }

                    var use = firstUse < 0 ? "nothing in the stage uses it" : $"it is first used on line {later[firstUse].Line}";
                    yield return new Finding(
                        Id,
                        Severity.Warning,
                        arg.Line,
                        $"ARG {name} changes on every build and is declared before {wasted.Count} RUN step{(wasted.Count == 1 ? "" : "s")} that do not use it (from line {wasted[0].Line}); {use}",
                        $"each new value of {name} re-runs every RUN after this line, starting with line {wasted[0].Line}, even though they do not read it",
                        firstUse < 0
                            ? $"remove ARG {name} from this stage, or declare it in the stage that uses it"
                            : $"move ARG {name} down to just before line {later[firstUse].Line}, where it is used");
                }
            }
        }
    }

    internal static bool IsVolatile(string name)
    {
        var upper = name.ToUpperInvariant();
        return VolatileName().IsMatch(upper);
    }

    private static bool Uses(Instruction instruction, string name)
    {
        var pattern = new Regex(@"\$\{?" + Regex.Escape(name) + @"\b", RegexOptions.CultureInvariant);
        return pattern.IsMatch(instruction.Arguments) || instruction.Heredocs.Any(h => pattern.IsMatch(h.Body)) || instruction.Flags.Any(f => f.Value is not null && pattern.IsMatch(f.Value));
    }

    // Toolchain pins (NODE_VERSION, GO_VERSION) are stable and left alone; these change per build.
    [GeneratedRegex(@"^((APP_|BUILD_|RELEASE_|IMAGE_|PROJECT_)?VERSION|RELEASE|BUILD_(DATE|TIME|TIMESTAMP|NUMBER|ID)|DATE|TIMESTAMP|SOURCE_DATE_EPOCH|CACHEBUST|CACHE_BUST|VCS_REF|REVISION|COMMIT|GIT_[A-Z_]+|.*_(SHA|COMMIT|REVISION|REF_NAME))$")]
    private static partial Regex VolatileName();
}
