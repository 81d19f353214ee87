namespace BuildPool.Gateway.Tests.Insight;

/// <summary>
/// A fact that renders a page in real headless Chromium; skipped, naming Debian's <c>chromium</c>
/// package (which <c>.ci/run</c> installs), when no chromium binary is on PATH.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (ChromiumPath is null)
        {
            Skip = "needs a headless Chromium on PATH (chromium or chromium-browser): install Debian's `chromium` package (apt-get install chromium), as .ci/run does";
        }
    }

    /// <summary>The first chromium binary on PATH; null when there is none.</summary>
    public static string? ChromiumPath =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { "chromium", "chromium-browser" }.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
}
