namespace BuildPool.Api.Tests;

internal static class RepositoryRoot
{
    internal static string Path { get; } = Find();

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

    // Set UPDATE_GENERATED=1 to rewrite generated files instead of failing on a difference.
    internal static bool Update => Environment.GetEnvironmentVariable("UPDATE_GENERATED") == "1";
}
