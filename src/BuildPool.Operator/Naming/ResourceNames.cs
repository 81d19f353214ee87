namespace BuildPool.Operator.Naming;

/// <summary>
/// Names of everything derived from a pool or a volume. They are stable functions of the
/// parent's name, so a restarted operator finds what it created instead of creating it twice.
/// </summary>
public static class ResourceNames
{
    /// <summary>
    /// Longest pool name whose derived names stay valid DNS labels (63), the limit for Services:
    /// "&lt;pool&gt;-&lt;index up to 3 digits&gt;-builder" must fit.
    /// </summary>
    public const int MaxPoolNameLength = 63 - 12;

    /// <summary>Longest CacheVolume name: its builder Service is "&lt;volume&gt;-builder".</summary>
    public const int MaxVolumeNameLength = 63 - 8;

    public static string HashedVolume(string pool, int index) => $"{pool}-{index}";

    public static string GatewayService(string pool) => pool;

    public static string Gateway(string pool) => $"{pool}-gateway";

    public static string BuildersPolicy(string pool) => $"{pool}-builders";

    public static string StateClaim(string volume) => $"{volume}-state";

    public static string Config(string volume) => $"{volume}-buildkitd";

    public static string Builder(string volume) => $"{volume}-builder";

    public static string BuilderService(string volume) => $"{volume}-builder";

    public static string BuilderEndpoint(string volume, string @namespace, int port) => $"tcp://{BuilderService(volume)}.{@namespace}.svc:{port}";
}
