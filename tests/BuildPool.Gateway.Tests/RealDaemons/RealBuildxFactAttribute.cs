namespace BuildPool.Gateway.Tests.RealDaemons;

/// <summary>
/// A fact that runs a real buildx binary (<c>BUILDPOOL_TEST_BUILDX</c>) against real buildkitd
/// daemons (<see cref="RealBuildKitFactAttribute.Variable"/>); skipped, naming both variables,
/// when either is missing. With <c>needsBusybox</c> it also needs a static busybox at
/// <see cref="BusyboxPath"/>: no image can be pulled there, so RUN steps get their shell from it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealBuildxFactAttribute : FactAttribute
{
    public const string Variable = "BUILDPOOL_TEST_BUILDX";

    /// <summary>Copied into <c>FROM scratch</c> images so RUN steps have <c>sh</c> (Debian's busybox-static installs it here).</summary>
    public const string BusyboxPath = "/bin/busybox";

    public RealBuildxFactAttribute(bool needsBusybox = false)
    {
        if (RealBuildKitFactAttribute.Addresses.Count == 0 || BuildxPath is null)
        {
            Skip = $"needs real buildkitd daemons and a buildx binary: set {RealBuildKitFactAttribute.Variable}=tcp://host:port[,tcp://host:port...] " +
                $"and {Variable}=/path/to/buildx (run standalone as `buildx create`/`buildx build`) to build through the gateway with real buildx";
        }
        else if (needsBusybox && !File.Exists(BusyboxPath))
        {
            Skip = $"needs a static busybox at {BusyboxPath} (Debian's busybox-static) to give RUN steps a shell in a FROM scratch image";
        }
    }

    /// <summary>The buildx binary from the environment; null when unset.</summary>
    public static string? BuildxPath => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;
}
