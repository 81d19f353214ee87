namespace BuildPool.Packaging.Tests;

/// <summary>A fact that needs the helm binary; skipped with instructions when it is not on PATH.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class HelmFactAttribute : FactAttribute
{
    public HelmFactAttribute()
    {
        if (Helm.Path is null)
        {
            Skip = "helm not found on PATH: install Helm 3 (https://helm.sh/docs/intro/install/) to lint and render charts/buildpool";
        }
    }
}
