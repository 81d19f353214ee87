namespace BuildPool.LocalApi.Tests.TestSupport;

public static class TestPaths
{
    /// <summary>The emulator's own test CRD (group test.buildpool.dev, kind BuilderPool, short name tbp).</summary>
    public static string TestCrdDirectory => Path.Combine(AppContext.BaseDirectory, "TestData");

    /// <summary>The repository root, found by walking up to the solution file.</summary>
    public static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BuildPoolOperator.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
