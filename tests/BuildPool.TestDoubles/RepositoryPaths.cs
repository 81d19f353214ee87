namespace BuildPool.TestDoubles;

/// <summary>Finds files of the repository from a test's output directory.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Find();

    public static string Crds => Path.Combine(Root, "crds");

    public static string Samples => Path.Combine(Root, "config", "samples");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BuildPoolOperator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No BuildPoolOperator.sln above {AppContext.BaseDirectory}.");
    }
}
