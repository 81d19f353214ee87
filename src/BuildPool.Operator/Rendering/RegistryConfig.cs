using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Rendering;

/// <summary>
/// One <c>[registry."host"]</c> table: <see cref="RegistrySettings"/> with the Secrets it names
/// already mounted into the builder pod as files.
/// </summary>
public sealed record RegistryConfig
{
    /// <summary>Registry host with optional port, the table key.</summary>
    public required string Host { get; init; }

    /// <summary>Mirrors tried before the registry, in order.</summary>
    public IReadOnlyList<string> Mirrors { get; init; } = [];

    /// <summary>Talk plain HTTP to the registry.</summary>
    public bool Http { get; init; }

    /// <summary>Accept an untrusted TLS certificate from the registry.</summary>
    public bool Insecure { get; init; }

    /// <summary>Paths of PEM CA bundles trusted for this registry.</summary>
    public IReadOnlyList<string> CaPaths { get; init; } = [];

    /// <summary>Client key pairs presented to this registry.</summary>
    public IReadOnlyList<RegistryKeyPair> KeyPairs { get; init; } = [];

    /// <summary>
    /// The table for <paramref name="settings"/>, with the paths where the pod mounts its CA
    /// Secret key and client key pair. A path is used only when the settings name that Secret.
    /// </summary>
    public static RegistryConfig FromSettings(RegistrySettings settings, string? caPath = null, RegistryKeyPair? keyPair = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new RegistryConfig
        {
            Host = settings.Host,
            Mirrors = settings.Mirrors?.ToArray() ?? [],
            Http = settings.Http,
            Insecure = settings.Insecure,
            CaPaths = settings.CaSecretRef is not null && caPath is not null ? [caPath] : [],
            KeyPairs = settings.ClientKeyPairSecretRef is not null && keyPair is not null ? [keyPair] : [],
        };
    }
}
