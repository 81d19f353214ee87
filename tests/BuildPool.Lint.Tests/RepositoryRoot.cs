namespace BuildPool.Lint.Tests;

/// <summary>The repository's root, found from the test's output directory.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "BuildPoolOperator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No BuildPoolOperator.sln above {AppContext.BaseDirectory}.");
    }
}
