namespace BuildPool.LocalApi.Tests.TestSupport;

/// <summary>A fact over the project's generated CRDs in <c>crds/</c>; skipped until they exist.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ProjectCrdFactAttribute : FactAttribute
{
    public ProjectCrdFactAttribute()
    {
        if (ProjectCrdTestsPaths.Crds is null)
        {
            Skip = "crds/*.yaml not found above the test binary: run `make manifests` to generate the project's CRDs";
        }
    }
}

/// <summary>Where the project's generated CRDs and samples live.</summary>
public static class ProjectCrdTestsPaths
{
    public static string? Crds => TestPaths.RepositoryRoot() is { } root && Directory.Exists(Path.Combine(root, "crds")) && Directory.EnumerateFiles(Path.Combine(root, "crds"), "*.yaml").Any()
        ? Path.Combine(root, "crds")
        : null;

    public static string? Samples => TestPaths.RepositoryRoot() is { } root && Directory.Exists(Path.Combine(root, "config", "samples"))
        ? Path.Combine(root, "config", "samples")
        : null;
}
