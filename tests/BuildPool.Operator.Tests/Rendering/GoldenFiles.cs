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

    /// <summary>
    /// Asserts that <paramref name="actual"/> is what Golden/<paramref name="folder"/>/<paramref name="file"/>
    /// holds; with UPDATE_GOLDEN=1 it first writes it there.
    /// </summary>
    public static void AssertMatches(string folder, string file, string actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        var dir = Directory(folder);
        var path = Path.Combine(dir, file);
        if (Update)
        {
            System.IO.Directory.CreateDirectory(dir);
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"{path} is missing. Run UPDATE_GOLDEN=1 dotnet test tests/BuildPool.Operator.Tests to create it, then review and commit it.");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(expected == actual,
            $"{file} differs from {path} at {FirstDifference(expected, actual)}\n" +
            $"If the change is intended, run UPDATE_GOLDEN=1 dotnet test tests/BuildPool.Operator.Tests and review the diff of Golden/{folder}.");
    }

    /// <summary>Asserts that every file in Golden/<paramref name="folder"/> with <paramref name="extension"/> is written by one of <paramref name="cases"/>.</summary>
    public static void AssertEveryFileHasACase(string folder, string extension, IEnumerable<string> cases)
    {
        var known = cases.ToHashSet(StringComparer.Ordinal);
        var dir = Directory(folder);
        var stale = System.IO.Directory.Exists(dir)
            ? System.IO.Directory.GetFiles(dir, "*" + extension).Select(Path.GetFileNameWithoutExtension).Where(n => !known.Contains(n!)).ToList()
            : [];
        Assert.True(stale.Count == 0, $"Golden/{folder} has files no case writes (delete them): " + string.Join(", ", stale));
    }

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
