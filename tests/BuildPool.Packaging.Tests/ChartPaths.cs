using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

/// <summary>Where the packaging lives in the repository.</summary>
public static class ChartPaths
{
    public static string Chart => Path.Combine(RepositoryPaths.Root, "charts", "buildpool");

    public static string Templates => Path.Combine(Chart, "templates");

    public static string Values => Path.Combine(Chart, "values.yaml");

    public static string Config => Path.Combine(RepositoryPaths.Root, "config");

    public static string Template(string name) => Path.Combine(Templates, name);

    /// <summary>The chart's template files (manifests, helpers and NOTES.txt), in name order.</summary>
    public static IEnumerable<string> AllTemplateFiles() =>
        Directory.EnumerateFiles(Templates).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".tpl", StringComparison.Ordinal) || f.EndsWith(".txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
}
