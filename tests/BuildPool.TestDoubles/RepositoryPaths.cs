namespace BuildPool.TestDoubles;

/// <summary>Finds files of the repository from a test's output directory.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Find();

    public static string Crds => Path.Combine(Root, "crds");

    /// <summary>A minimal snapshot.storage.k8s.io/v1 VolumeSnapshot CRD, for tests of clusters that have one.</summary>
    public static string VolumeSnapshotCrd => Path.Combine(Root, "tests", "BuildPool.TestDoubles", "Crds", "volumesnapshots.yaml");

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
