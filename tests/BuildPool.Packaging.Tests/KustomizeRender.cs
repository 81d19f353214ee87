using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

/// <summary><c>kubectl kustomize config/default</c>, run once for the test run.</summary>
public static class KustomizeRender
{
    private static readonly Lazy<Task<string>> Rendered = new(RenderAsync);

    public static Task<string> DefaultAsync() => Rendered.Value;

    private static async Task<string> RenderAsync()
    {
        // kustomize needs no cluster; the kubeconfig path only gives kubectl a scratch HOME.
        var home = Directory.CreateTempSubdirectory("buildpool-kustomize-");
        try
        {
            var result = await new Kubectl(Path.Combine(home.FullName, "kubeconfig")).RunAsync("kustomize", Path.Combine(ChartPaths.Config, "default"));
            return result.ExitCode == 0 ? result.Stdout : throw new InvalidOperationException($"kubectl kustomize config/default failed: {result}");
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
