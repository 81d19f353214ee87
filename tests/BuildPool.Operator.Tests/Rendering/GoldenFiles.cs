namespace BuildPool.Operator.Tests.Rendering;

/// <summary>
/// Expected renderer output under tests/BuildPool.Operator.Tests/Golden, read from and (with
/// UPDATE_GOLDEN=1) written to the source tree rather than the build output, so an update lands
/// in the files that get committed.
/// </summary>
internal static class GoldenFiles
{
    public static bool Update => Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1";

    public static string Directory(string name) => Path.Combine(ProjectDirectory.Value, "Golden", name);

    private static readonly Lazy<string> ProjectDirectory = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BuildPool.Operator.Tests.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No BuildPool.Operator.Tests.csproj above {AppContext.BaseDirectory}.");
    });

    /// <summary>Line number and both lines at the first difference, for a failure message.</summary>
    public static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<end of file>";
            var al = i < a.Length ? a[i] : "<end of file>";
            if (el != al)
            {
                return $"line {i + 1}:\n  expected: {el}\n  actual:   {al}";
            }
        }

        return "no difference";
    }
}
