namespace BuildPool.Host.Dev;

/// <summary>Whether <c>buildpool dev</c> runs real builders, and with what.</summary>
public sealed record LocalBuilders(string Buildkitd, int GatewayPort, TimeSpan RestartBackoff)
{
    /// <summary>
    /// The builders to run: with <paramref name="given"/> (it must exist), else with
    /// <c>buildkitd</c> from PATH; null when there is none (the local API then runs no pods).
    /// </summary>
    public static LocalBuilders? Find(FileInfo? given, int gatewayPort, TimeSpan restartBackoff)
    {
        if (gatewayPort is < 0 or > 65535)
        {
            throw new FormatException($"--gateway-port {gatewayPort}: not a port");
        }

        if (given is not null)
        {
            return given.Exists
                ? new LocalBuilders(given.FullName, gatewayPort, restartBackoff)
                : throw new FormatException($"--buildkitd {given.FullName}: no such file");
        }

        return OnPath("buildkitd") is { } found ? new LocalBuilders(found, gatewayPort, restartBackoff) : null;
    }

    /// <summary>The executable <paramref name="name"/> in a directory of PATH, or null.</summary>
    public static string? OnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? name + ".exe" : name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
