namespace BuildPool.Operator.Tests.Registry;

/// <summary>A fact that needs Debian's docker-registry; skipped with instructions when it is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RegistryFactAttribute : FactAttribute
{
    public RegistryFactAttribute(bool needsHtpasswd = false)
    {
        if (RealRegistry.BinaryPath is null)
        {
            Skip = $"docker-registry not found on PATH or in /usr/bin: {RealRegistry.InstallHint} to run the real-registry retention tests";
        }
        else if (needsHtpasswd && RealRegistry.HtpasswdPath is null)
        {
            Skip = "htpasswd not found: install apache2-utils (.ci/run does) to run the real-registry auth test";
        }
    }
}
