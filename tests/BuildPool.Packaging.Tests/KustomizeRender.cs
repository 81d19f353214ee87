using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

/// <summary><c>kubectl kustomize config/&lt;overlay&gt;</c>, run once per overlay for the test run.</summary>
public static class KustomizeRender
{
    private static readonly Lazy<Task<string>> Rendered = new(() => RenderAsync("default"));

    private static readonly Lazy<Task<string>> RenderedLocal = new(() => RenderAsync("local"));

    private static readonly Lazy<Task<string>> RenderedNamespaced = new(() => RenderAsync("namespaced"));

    private static readonly Lazy<Task<string>> RenderedPrometheus = new(() => RenderAsync("prometheus"));

    public static Task<string> DefaultAsync() => Rendered.Value;

    /// <summary>config/namespaced: config/default for an operator that manages one namespace, with namespaced RBAC.</summary>
    public static Task<string> NamespacedAsync() => RenderedNamespaced.Value;

    /// <summary>config/prometheus: the monitors, alert rules and Grafana dashboard, applied next to config/default.</summary>
    public static Task<string> PrometheusAsync() => RenderedPrometheus.Value;

    /// <summary>config/local: config/default for a laptop cluster with a locally built image.</summary>
    public static Task<string> LocalAsync() => RenderedLocal.Value;

    private static async Task<string> RenderAsync(string overlay)
    {
        // kustomize needs no cluster; the kubeconfig path only gives kubectl a scratch HOME.
        var home = Directory.CreateTempSubdirectory("buildpool-kustomize-");
        try
        {
            var result = await new Kubectl(Path.Combine(home.FullName, "kubeconfig")).RunAsync("kustomize", Path.Combine(ChartPaths.Config, overlay));
            return result.ExitCode == 0 ? result.Stdout : throw new InvalidOperationException($"kubectl kustomize config/{overlay} failed: {result}");
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
