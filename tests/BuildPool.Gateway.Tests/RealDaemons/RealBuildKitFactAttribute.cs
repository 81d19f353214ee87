namespace BuildPool.Gateway.Tests.RealDaemons;

/// <summary>
/// A fact that talks to real buildkitd daemons listed in <c>BUILDPOOL_TEST_BUILDKIT_ADDRS</c>;
/// skipped with that hint when none are listed.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealBuildKitFactAttribute : FactAttribute
{
    public const string Variable = "BUILDPOOL_TEST_BUILDKIT_ADDRS";

    public RealBuildKitFactAttribute()
    {
        if (Addresses.Count == 0)
        {
            Skip = $"no real buildkitd listed: set {Variable}=tcp://host:port[,tcp://host:port...] (buildkitd --addr tcp://0.0.0.0:port, plain h2c) to run the gateway against real daemons";
        }
    }

    /// <summary>The daemons' addresses from the environment, in order.</summary>
    public static IReadOnlyList<string> Addresses =>
        Environment.GetEnvironmentVariable(Variable)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
