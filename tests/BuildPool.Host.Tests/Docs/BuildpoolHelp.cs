using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace BuildPool.Host.Tests.Docs;

/// <summary>The commands and options the real <c>buildpool</c> executable lists in its <c>--help</c>.</summary>
internal sealed partial class BuildpoolHelp
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlySet<string>>>> _options = new(StringComparer.Ordinal);

    private BuildpoolHelp(IReadOnlySet<string> subcommands) => Subcommands = subcommands;

    public IReadOnlySet<string> Subcommands { get; }

    public static async Task<BuildpoolHelp> ReadAsync()
    {
        var help = await RunHelpAsync([]);
        var subcommands = Section(help, "Commands:")
            .Select(l => SectionEntry().Match(l))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
        return subcommands.Count > 0 ? new BuildpoolHelp(subcommands) : throw new InvalidOperationException($"buildpool --help lists no commands:\n{help}");
    }

    /// <summary>Every option name (<c>--listen</c>, <c>-f</c>, ...) of a subcommand, read once.</summary>
    public Task<IReadOnlySet<string>> OptionsOfAsync(string subcommand) =>
        _options.GetOrAdd(subcommand, s => new Lazy<Task<IReadOnlySet<string>>>(async () =>
        {
            var help = await RunHelpAsync([s]);
            return Section(help, "Options:")
                .SelectMany(l => OptionName().Matches(l.Split("  ", 3, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty))
                .Select(m => m.Value)
                .ToHashSet(StringComparer.Ordinal);
        })).Value;

    private static async Task<string> RunHelpAsync(string[] subcommand)
    {
        var dir = Directory.CreateTempSubdirectory("buildpool-help-");
        try
        {
            var (code, output, error) = await Cli.RunAsync(dir.FullName, [.. subcommand, "--help"]);
            return code == 0 ? output : throw new InvalidOperationException($"buildpool {string.Join(' ', subcommand)} --help exited {code}: {error}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // The indented lines under a "Commands:" or "Options:" heading, up to the next blank line.
    private static IEnumerable<string> Section(string help, string heading) =>
        help.Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .SkipWhile(l => l.Trim() != heading)
            .Skip(1)
            .TakeWhile(l => l.Trim().Length > 0)
            .Where(l => l.StartsWith("  ", StringComparison.Ordinal));

    [GeneratedRegex(@"^\s{2}([a-z][a-z0-9-]*)\s")]
    private static partial Regex SectionEntry();

    [GeneratedRegex(@"--?[A-Za-z?][A-Za-z0-9-]*")]
    private static partial Regex OptionName();
}
