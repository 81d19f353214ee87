using Xunit;

namespace BuildPool.TestDoubles;

/// <summary>A fact that needs the real kubectl binary; skipped with instructions when it is not on PATH.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kubectl.Path is null)
        {
            Skip = "kubectl not found on PATH: install kubectl 1.27 or newer (https://kubernetes.io/docs/tasks/tools/, or `apt-get install kubectl` from pkgs.k8s.io) to run the kubectl compatibility tests";
        }
    }
}
